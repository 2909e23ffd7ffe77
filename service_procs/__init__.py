"""Running this repository's services as real uvicorn processes on 127.0.0.1, and free ports.

Used by the tests (tests/support) and by the benchmarks alike; it imports neither.
"""
