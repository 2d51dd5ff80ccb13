"""pmgfast: a fast mail gateway for Postfix.

The job of Proxmox Mail Gateway (spam and virus filtering, an object-oriented rule system,
quarantine, tracking, statistics), in Python with compiled hot paths in Rust (``rust/``,
distribution ``pmgfast-native``) and Cython (``ext/``).
"""

__version__ = "0.1.0"
