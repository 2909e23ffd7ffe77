"""Password hashing (pwdlib with Argon2id, its recommended settings) and generated passwords."""

from __future__ import annotations

import secrets
from functools import cache

from pwdlib import PasswordHash

# Passwords shorter than this are refused when set (NIST SP 800-63B asks for at least 8).
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


@cache
def hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return hasher().verify(password, password_hash)


# Checked against when the account does not exist, so a miss costs as much as a wrong password
# and timing does not tell which names exist.
@cache
def dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")


def generate_password() -> str:
    """A random password to hand to a new user once (about 128 bits)."""
    return secrets.token_urlsafe(16)
