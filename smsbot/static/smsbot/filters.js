// Dropdown list filters: choosing an option opens the list filtered by it, as a
// click on one of the admin's own filter links does.
(function () {
    "use strict";
    document.addEventListener("change", (event) => {
        const select = event.target.closest("select.ops-filter-select");
        if (select) {
            window.location.href = select.value;
        }
    });
})();
