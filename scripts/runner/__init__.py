"""`scripts/run`: the whole system under supervisord, plain (SQLite) or scaled out (PostgreSQL,
Redis, replicas behind HAProxy). Run as `python -m scripts.runner [--scaled]` from the repo root.
"""
