/* The live counter under the broadcast text: characters, encoding, segments, cost.
 *
 * It follows messaging/billing/segments.py: GSM-7 (extension characters take
 * two septets) when every character is in the GSM 03.38 tables, else UCS-2
 * (UTF-16 code units). One part holds 160 septets / 70 units; a longer text is
 * cut into parts of 153 / 67, and an escape pair (GSM-7) or a surrogate pair
 * (UCS-2) is never split across two parts. The character tables, recipients
 * and prices come from the page (data attributes the server fills), and the
 * preview the server computes stays the authority.
 */
(function () {
    "use strict";

    const GSM7 = { single: 160, part: 153, name: "GSM-7" };
    const UCS2 = { single: 70, part: 67, name: "UCS-2" };
    const SCALE = 100000; // prices in hundred-thousandths of a dollar, as the server stores them

    function count(text, tables) {
        const chars = Array.from(text); // code points, as Python iterates a str
        const gsm = chars.every((ch) => tables.basic.has(ch) || tables.extended.has(ch));
        const encoding = gsm ? GSM7 : UCS2;
        // Units per character: septets (GSM-7) or UTF-16 code units (UCS-2).
        const widths = chars.map((ch) => (gsm ? (tables.extended.has(ch) ? 2 : 1) : ch.length));
        const units = widths.reduce((sum, w) => sum + w, 0);
        let segments = 1;
        if (units > encoding.single) {
            let used = 0;
            for (const w of widths) {
                if (used + w > encoding.part) {
                    segments += 1;
                    used = 0;
                }
                used += w;
            }
        }
        const forcing = [];
        if (!gsm) {
            const foreign = new Set(chars.filter((ch) => !tables.basic.has(ch) && !tables.extended.has(ch)));
            // Only stray look-alikes are worth a warning; real non-GSM text is not.
            if ([...foreign].every((ch) => ch in tables.lookalikes)) {
                [...foreign].sort().forEach((ch) => forcing.push(tables.lookalikes[ch]));
            }
        }
        return { encoding: encoding.name, units, segments, chars: chars.length, forcing };
    }

    function projectedUnits(info, rates, channel, template) {
        let total = 0;
        let recipients = 0;
        for (const rate of rates) {
            if (channel && rate.channel !== channel) continue;
            const price = Math.round(parseFloat(template && rate.channel === "whatsapp" ? rate.template_unit : rate.unit) * SCALE);
            total += rate.recipients * price * (rate.per_segment ? info.segments : 1);
            recipients += rate.recipients;
        }
        return { total, recipients };
    }

    function usd(units) {
        // Four decimals, half up, as the preview shows it.
        return (Math.round(units / 10) / 10000).toFixed(4);
    }

    function render(counter, info, cost, rates, channel) {
        const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
        const who = rates
            .filter((rate) => !channel || rate.channel === channel)
            .map((rate) => `${rate.recipients} ${rate.label}`)
            .join(" + ");
        const figures = document.createElement("div");
        figures.className = "compose-figures";
        figures.textContent = `${plural(info.chars, "character")} · ${info.encoding} · ` +
            `${plural(info.segments, "segment")} per SMS · ` +
            `${plural(cost.recipients, "recipient")} (${who}) · projected ${usd(cost.total)} USD`;
        const warnings = [];
        if (info.forcing.length) {
            warnings.push(`Forced into UCS-2 (70 characters a segment) by: ${info.forcing.join(", ")}`);
        }
        if (info.segments > 1) {
            warnings.push(`Needs ${info.segments} segments, each charged separately`);
        }
        counter.replaceChildren(figures, ...warnings.map((text) => {
            const line = document.createElement("p");
            line.className = "compose-warning";
            line.textContent = text;
            return line;
        }));
    }

    function start() {
        const counter = document.getElementById("compose-counter");
        const textarea = document.getElementById("id_text");
        if (!counter || !textarea) return;
        const data = (name) => JSON.parse(counter.dataset[name]);
        const tables = {
            basic: new Set(Array.from(data("gsmBasic"))),
            extended: new Set(Array.from(data("gsmExtended"))),
            lookalikes: data("lookalikes"),
        };
        const rates = data("rates");
        const channel = document.getElementById("id_channel");
        const contentSid = document.getElementById("id_whatsapp_content_sid");
        const update = () => {
            const info = count(textarea.value, tables);
            const chosen = channel ? channel.value : "";
            const template = Boolean(contentSid && contentSid.value.trim());
            render(counter, info, projectedUnits(info, rates, chosen, template), rates, chosen);
        };
        textarea.addEventListener("input", update);
        if (channel) channel.addEventListener("change", update);
        if (contentSid) contentSid.addEventListener("input", update);
        update();
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
