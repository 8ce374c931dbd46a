"""The Streamlit dashboards: the only package (besides dashboard*.py) importing streamlit."""
