"""Operations: backups and restores of the whole database (`flask backup`, `flask restore`)."""
