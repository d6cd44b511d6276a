"""The district-heating hotline (供暖客服; rule table in its README.md): leaks, complaints, fees, outages."""
