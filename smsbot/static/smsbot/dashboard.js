// The operations dashboard refreshes its broadcasts' progress by itself.
// While a broadcast sends (or awaits delivery reports) it asks the server for the
// figures every few seconds and writes them into the page; when today's daily send
// has not started yet it checks now and then and reloads the page once it has.
(function () {
    "use strict";
    const dashboard = document.querySelector(".ops-dashboard[data-live-url]");
    if (!dashboard) {
        return;
    }
    const url = dashboard.dataset.liveUrl;
    const LIVE_MS = Number(dashboard.dataset.liveMs);
    const WAITING_MS = Number(dashboard.dataset.waitingMs);

    function liveIds() {
        return Array.from(dashboard.querySelectorAll(".ops-broadcast[data-live]"))
            .map((el) => el.dataset.broadcast);
    }

    function waitingForDaily() {
        return dashboard.querySelector("[data-daily-pending]") !== null;
    }

    function show(figures) {
        const card = dashboard.querySelector(`.ops-broadcast[data-broadcast="${figures.id}"]`);
        if (!card) {
            return;
        }
        card.querySelector('[data-field="state_label"]').textContent = figures.state_label;
        card.querySelector('[data-field="summary"]').textContent = figures.summary;
        const bar = card.querySelector('[data-field="percent"]');
        bar.value = figures.percent;
        bar.textContent = `${figures.percent}%`;
        for (const [key, value] of Object.entries(figures.figures)) {
            const figure = card.querySelector(`[data-figure="${key}"]`);
            if (figure) {
                figure.textContent = value;
            }
        }
        if (!figures.live) {
            delete card.dataset.live;
        }
    }

    function schedule() {
        if (liveIds().length) {
            window.setTimeout(poll, LIVE_MS);
        } else if (waitingForDaily()) {
            window.setTimeout(poll, WAITING_MS);
        }
    }

    function poll() {
        const query = new URLSearchParams({ ids: liveIds().join(",") });
        fetch(`${url}?${query}`, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
            .then((data) => {
                data.broadcasts.forEach(show);
                if (data.daily_started && waitingForDaily()) {
                    window.location.reload();
                    return;
                }
                schedule();
            })
            // A failed poll (server restarting, logged out) just stops the refresh.
            .catch(() => undefined);
    }

    schedule();
})();
