/* Broadcast progress that moves without reloading the page: the one live script
 * of the broadcast list, a broadcast's page and the dashboard.
 *
 * Every element marked data-broadcast="<id>" data-live="<field>" shows one
 * field of that broadcast (the server renders it first, from the same
 * definition: figures.broadcast_live). While any broadcast on the page may
 * still move (marked data-moving), this asks the progress view (the URL in
 * #broadcast-live) for their fields and writes them in: every 2 seconds while
 * one is sending, every 10 otherwise; it stops when none is left to move.
 * Buttons marked data-operation hide when the broadcast's state no longer
 * offers them. Who it skipped, by reason (data-broadcast-skips="<id>": the
 * broadcast page's table, the dashboard's line), is rewritten from its rows.
 * On the dashboard, while today's daily send has yet to start
 * (data-daily-pending), it asks now and then and reloads once it has.
 */
(function () {
    "use strict";

    const WAITING_EVERY = 10000;

    function movingIds() {
        const ids = new Set();
        document.querySelectorAll("[data-broadcast][data-moving]").forEach((el) => {
            ids.add(el.dataset.broadcast);
        });
        return [...ids];
    }

    function dailyPending() {
        return document.querySelector("[data-daily-pending]") !== null;
    }

    function apply(broadcast) {
        document.querySelectorAll(`[data-broadcast="${broadcast.id}"]`).forEach((el) => {
            const field = el.dataset.live;
            if (field === "bar") {
                el.max = broadcast.max;
                el.value = broadcast.value;
            } else if (field in broadcast.text) {
                el.textContent = broadcast.text[field];
            }
            if ("moving" in el.dataset && !broadcast.live) delete el.dataset.moving;
        });
        document.querySelectorAll("[data-operation]").forEach((button) => {
            if (button.closest(".bc-record")) {
                button.hidden = !broadcast.actions.includes(button.dataset.operation);
            }
        });
    }

    // A reason's label, linked to the subscribers it counts where the list has the filter.
    function reasonLabel(row) {
        if (!row.url) return document.createTextNode(row.label);
        const link = document.createElement("a");
        link.href = row.url;
        link.textContent = row.label;
        return link;
    }

    function count(row) {
        const strong = document.createElement("strong");
        strong.dataset.reason = row.reason;
        strong.textContent = row.count;
        return strong;
    }

    function skipTable(el, table, rows) {
        table.tBodies[0].replaceChildren(
            ...rows.map((row) => {
                const tr = document.createElement("tr");
                tr.dataset.reason = row.reason;
                const th = document.createElement("th");
                th.scope = "row";
                th.append(reasonLabel(row));
                const n = document.createElement("td");
                n.className = "skip-count";
                n.textContent = row.count;
                const until = document.createElement("td");
                until.textContent = row.until ? `until ${row.until}` : "";
                tr.append(th, n, until);
                return tr;
            }),
        );
        table.hidden = rows.length === 0;
        const none = el.querySelector("[data-skips-none]");
        if (none) none.hidden = rows.length > 0;
    }

    function skipList(el, rows) {
        const items = [];
        rows.forEach((row, i) => {
            if (i) items.push(" · ");
            const label = reasonLabel(row);
            if (row.url) {
                label.append(" ", count(row));
                items.push(label);
            } else {
                items.push(label, " ", count(row));
            }
        });
        el.querySelector("[data-skips-list]").replaceChildren(...items);
        el.hidden = rows.length === 0;
    }

    // Who it skipped, by reason: rewritten only when the rows changed, so a link
    // under the pointer stays put.
    function applySkips(broadcast) {
        if (!broadcast.skips) return;
        const rows = JSON.stringify(broadcast.skips);
        document.querySelectorAll(`[data-broadcast-skips="${broadcast.id}"]`).forEach((el) => {
            if (el.dataset.skipsShown === rows) return;
            el.dataset.skipsShown = rows;
            const table = el.querySelector("table");
            if (table) skipTable(el, table, broadcast.skips);
            else skipList(el, broadcast.skips);
        });
    }

    function start() {
        const source = document.getElementById("broadcast-live");
        if (!source) return;
        // A page may set its own pace (the dashboard's data-sending-ms and data-daily-ms).
        const SENDING_EVERY = Number(source.dataset.sendingMs) || 2000;
        const DAILY_EVERY = Number(source.dataset.dailyMs) || 30000;
        const next = (delay) => {
            if (movingIds().length || dailyPending()) setTimeout(poll, delay);
        };
        const poll = () => {
            const query = new URLSearchParams();
            movingIds().forEach((id) => query.append("id", id));
            if (dailyPending()) query.append("daily", "1");
            fetch(`${source.dataset.url}?${query}`, {
                credentials: "same-origin",
                headers: { Accept: "application/json" },
            })
                .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
                .then((data) => {
                    if (data.daily_started && dailyPending()) {
                        window.location.reload();
                        return;
                    }
                    data.broadcasts.forEach((broadcast) => {
                        apply(broadcast);
                        applySkips(broadcast);
                    });
                    const sending = data.broadcasts.some((b) => b.state === "sending");
                    next(sending ? SENDING_EVERY : movingIds().length ? WAITING_EVERY : DAILY_EVERY);
                })
                // A failed request (server restarting, session ended) tries again later.
                .catch(() => next(WAITING_EVERY));
        };
        next(movingIds().length ? SENDING_EVERY : DAILY_EVERY);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
