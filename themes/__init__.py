"""runpages themes: jinja2 templates and static files, shipped inside the wheel."""
