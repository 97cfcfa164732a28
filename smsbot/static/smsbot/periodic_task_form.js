"use strict";
// django-celery-beat's periodic task form: under the crontab field, the chosen
// schedule in words (templates/admin/djcelery/change_periodictask_form.html).
(function () {
  const readable = JSON.parse(document.getElementById("readable-crontabs").textContent);
  const select = document.getElementById("id_crontab");
  const help = document.querySelector(".field-crontab .help");
  const translation = document.querySelector(".field-crontab_translation");
  if (translation) {
    translation.hidden = true;
  }
  if (!select || !help) {
    return;
  }
  const original = help.textContent;
  const show = function () {
    const words = readable[select.value];
    help.textContent = words ? original + " Translation: " + words : original;
  };
  select.addEventListener("change", show);
  show();
})();
