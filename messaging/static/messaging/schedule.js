/* Daily schedule: the search box for another timezone shows only when it is chosen. */
(function () {
    "use strict";

    function start() {
        const select = document.getElementById("id_timezone");
        const other = document.querySelector(".field-other_timezone");
        if (!select || !other) return;
        const update = () => other.classList.toggle("bc-hidden", select.value !== "other");
        select.addEventListener("change", update);
        update();
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
