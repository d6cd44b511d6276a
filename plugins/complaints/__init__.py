"""plugins/complaints: the property developer's customer service (DOMAIN.md 第一篇)."""
