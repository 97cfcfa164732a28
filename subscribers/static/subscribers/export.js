// The export progress page: poll the export's status until its file is ready.
"use strict";
(function () {
    const box = document.getElementById("export-progress");
    if (!box) {
        return;
    }
    const FINISHED = ["done", "failed"];
    const bar = box.querySelector("progress");
    const state = box.querySelector(".export-state");
    const count = box.querySelector(".export-count");
    const error = box.querySelector(".export-error");
    const ready = box.querySelector(".export-ready");
    const download = box.querySelector(".export-download");

    function show(status) {
        box.dataset.state = status.state;
        bar.value = status.percent;
        bar.textContent = status.percent + "%";
        state.textContent = status.label;
        count.textContent = status.total === null
            ? String(status.done)
            : status.done + " of " + status.total;
        error.textContent = status.error;
        error.hidden = !status.error;
        if (status.download_url) {
            download.href = status.download_url;
            ready.hidden = false;
        }
    }

    function poll() {
        fetch(box.dataset.statusUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"})
            .then(function (response) {
                if (!response.ok) {
                    throw new Error("status " + response.status);
                }
                return response.json();
            })
            .then(function (status) {
                show(status);
                if (!FINISHED.includes(status.state)) {
                    window.setTimeout(poll, 1000);
                }
            })
            .catch(function () {
                // A lost answer (a restart, a network blip): try again a little later.
                window.setTimeout(poll, 5000);
            });
    }

    if (!FINISHED.includes(box.dataset.state)) {
        poll();
    }
}());
