"""The district-heating hotline (供暖客服, DOMAIN.md 第三篇): leaks, complaints, fees, outages."""
