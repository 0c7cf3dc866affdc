"""Generated user names and passwords, and a check that no part of a password leaked."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import strategies as st

# What breaks URL parsing: all of it goes into generated credentials.
SPECIALS = "@:/%#?[]"
# Letters that never appear in anything the program prints by itself (messages are
# ASCII English, URLs and numbers): a single one of them in an output is a leak.
_MARKED = st.one_of(
    st.characters(min_codepoint=0x391, max_codepoint=0x4FF,
                  exclude_categories=("Cn", "Mn", "Me", "Lm")),  # Greek, Cyrillic
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF),  # CJK
    st.characters(min_codepoint=0x1F600, max_codepoint=0x1F64F),  # emoji
)


def _has_marks(password: str) -> bool:
    return sum(not _plain(c) for c in password) >= 2


def _plain(char: str) -> bool:
    return char.isascii()


passwords = st.lists(
    st.one_of(st.sampled_from(SPECIALS), _MARKED, st.sampled_from(" *&!'\"=+;,")), min_size=2,
    max_size=24,
).map("".join).filter(_has_marks)

# User names are shown (only passwords are masked): plain ASCII and the specials, so
# they can never contain a marked letter of the password.
users = st.text(alphabet=st.sampled_from("abcXYZ019._-~ " + SPECIALS), min_size=1, max_size=16)


def leaks(password: str, text: str) -> list[str]:
    """The pieces of `password` found in `text`: its marked letters, raw or percent-encoded."""
    found = []
    for char in password:
        if _plain(char):
            continue
        for form in (char, quote(char, safe=""), quote(char, safe="").lower()):
            if form in text:
                found.append(form)
    if password in text:
        found.append(password)
    return found

# Credentials as people type them into a URL, unencoded, in the forms FFmpeg accepts:
# no '/', '?', '#' or white space, and no ':' in the user name; raw '@' anywhere.
typed_passwords = st.lists(
    st.one_of(st.sampled_from("@:%[]"), _MARKED, st.sampled_from("*&!'=+;,")), min_size=2,
    max_size=24,
).map("".join).filter(_has_marks)
typed_users = st.text(alphabet=st.sampled_from("abcXYZ019._-~@%[]"), min_size=1, max_size=16)
