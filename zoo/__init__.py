"""Deep Learning Zoo: the shared runtime behind the pages (no Streamlit outside zoo/ui/)."""
