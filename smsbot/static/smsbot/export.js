"use strict";
// django-import-export's "Select all" box on the export page, bound here rather
// than by an onchange attribute (templates/admin/import_export/export.html).
// onSelectToggleChange comes from the library's export_selectable_fields.js.
document.querySelectorAll(".select-toggle").forEach(function (toggle) {
  toggle.addEventListener("change", onSelectToggleChange);
});
