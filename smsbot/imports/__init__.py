"""Admin imports that cannot be steered: every django-import-export import in the admin.

- files: an upload waits for its confirmation in a private directory
  (settings.IMPORT_DIR, 0700; files 0600 under random names the server
  chose), deleted after the confirmation or once stale.
- tokens: the confirmation carries a signed token naming the file, bound to
  the user, the admin and a time limit; never a path from the browser.
- checks: size, rows and columns, with a sentence for every refusal.
- rows: what a checked file would do, row by row, for the import page.
- previews: a large file is previewed by a worker, with progress.
- admin: GuardedImportsMixin, which PortalAdminSite gives every import admin.

Imports no app module (smsbot's rule): the admin and its resource are found
through the admin site.
"""
