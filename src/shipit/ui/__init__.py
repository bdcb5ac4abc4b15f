"""Terminal rendering with rich: progress, live views, dashboards, error panels, plain/JSON."""
