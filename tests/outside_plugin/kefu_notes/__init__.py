"""kefu_notes: a plugin installed from outside kefu's repository, with a table of its own."""
