"""One module per group of commands; ``cli.app`` registers them."""
