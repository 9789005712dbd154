"""Dashboard templates and static files (vendored uPlot and Vazirmatn; no CDN)."""
