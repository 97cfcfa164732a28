/* Broadcast progress that moves on the page without reloading it.
 *
 * Every element marked data-broadcast="<id>" data-live="<field>" shows one
 * field of that broadcast (the server renders it first). While any broadcast
 * on the page is sending or scheduled, this asks the progress view (the URL in
 * #broadcast-live) for their fields and writes them in: every 2 seconds while
 * one is sending, every 10 while they only wait for their time; it stops when
 * none is left to move. Buttons marked data-operation hide when the
 * broadcast's state no longer offers them.
 */
(function () {
    "use strict";

    const SENDING_EVERY = 2000;
    const WAITING_EVERY = 10000;
    const LIVE = new Set(["sending", "scheduled"]);

    function liveIds() {
        const ids = new Set();
        document.querySelectorAll("[data-broadcast][data-state]").forEach((el) => {
            if (LIVE.has(el.dataset.state)) ids.add(el.dataset.broadcast);
        });
        return [...ids];
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
            if ("state" in el.dataset) el.dataset.state = broadcast.state;
        });
        document.querySelectorAll("[data-operation]").forEach((button) => {
            if (button.closest(".bc-record")) {
                button.hidden = !broadcast.actions.includes(button.dataset.operation);
            }
        });
    }

    function start() {
        const source = document.getElementById("broadcast-live");
        if (!source) return;
        const poll = () => {
            const ids = liveIds();
            if (!ids.length) return;
            const query = ids.map((id) => `id=${encodeURIComponent(id)}`).join("&");
            fetch(`${source.dataset.url}?${query}`, {
                credentials: "same-origin",
                headers: { Accept: "application/json" },
            })
                .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
                .then((data) => {
                    data.broadcasts.forEach(apply);
                    const sending = data.broadcasts.some((b) => b.state === "sending");
                    if (liveIds().length) setTimeout(poll, sending ? SENDING_EVERY : WAITING_EVERY);
                })
                // A failed request (server restarting, session ended) tries again later.
                .catch(() => setTimeout(poll, WAITING_EVERY));
        };
        const waiting = liveIds().length;
        if (waiting) setTimeout(poll, SENDING_EVERY);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
