"""RFC 3986's examples of reference resolution (5.4.1 and 5.4.2), in one place for
``tests/test_safety.py`` and ``bench/negotiation_libraries.py`` (which imports no test
dependency: this module imports nothing)."""

BASE = "http://a/b/c/d;p?q"
EXAMPLES = {  # reference: its resolution against BASE
    "g:h": "g:h", "g": "http://a/b/c/g", "./g": "http://a/b/c/g", "g/": "http://a/b/c/g/",
    "/g": "http://a/g", "//g": "http://g", "?y": "http://a/b/c/d;p?y",
    "g?y": "http://a/b/c/g?y", "#s": "http://a/b/c/d;p?q#s", "g#s": "http://a/b/c/g#s",
    ";x": "http://a/b/c/;x", "": "http://a/b/c/d;p?q", ".": "http://a/b/c/",
    "..": "http://a/b/", "../g": "http://a/b/g", "../..": "http://a/",
    "../../../g": "http://a/g", "/./g": "http://a/g", "/../g": "http://a/g",
    "g.": "http://a/b/c/g.", "..g": "http://a/b/c/..g", "./../g": "http://a/b/g",
    "./g/.": "http://a/b/c/g/", "g/../h": "http://a/b/c/h",
    "g;x=1/../y": "http://a/b/c/y", "g?y/./x": "http://a/b/c/g?y/./x",
    "g#s/../x": "http://a/b/c/g#s/../x", "http:g": "http:g",
}  # fmt: skip
