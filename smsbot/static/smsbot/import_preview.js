"use strict";
// A large import's preview page: poll the worker's progress; once it has finished,
// load the page again, which then shows what the file would do and the confirmation.
(function () {
    const box = document.getElementById("import-progress");
    if (!box || ["done", "failed"].includes(box.dataset.state)) {
        return;
    }
    const bar = box.querySelector("progress");
    const state = box.querySelector(".import-state");
    const count = box.querySelector(".import-count");

    function poll() {
        fetch(box.dataset.statusUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"})
            .then(function (response) {
                if (!response.ok) {
                    throw new Error("status " + response.status);
                }
                return response.json();
            })
            .then(function (status) {
                if (["done", "failed"].includes(status.state)) {
                    window.location.reload();
                    return;
                }
                bar.value = status.percent;
                bar.textContent = status.percent + "%";
                state.textContent = status.label;
                count.textContent = status.done + " of " + status.total;
                window.setTimeout(poll, 1000);
            })
            .catch(function () {
                // A lost answer (a restart, a network blip): try again a little later.
                window.setTimeout(poll, 5000);
            });
    }

    poll();
}());
