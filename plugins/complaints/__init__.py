"""plugins/complaints: the property developer's customer service (rule table in its README.md)."""
