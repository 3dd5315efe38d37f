"""``python -m verifier`` runs the porv command line."""

from verifier.cli import main

if __name__ == "__main__":
    main()
