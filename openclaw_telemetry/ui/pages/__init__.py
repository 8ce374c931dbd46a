"""Dashboard pages: each module has `render(ctx)`; run as a page file by `st.navigation`,
it renders itself inside the refresh fragment."""
