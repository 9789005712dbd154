"""Tables, charts and HTML reports: one chart definition for the dashboard and the report."""
