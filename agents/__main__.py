"""`python -m agents ...` == `leaderwatch ...`."""
from agents.app import main

if __name__ == "__main__":
    main()
