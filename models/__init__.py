"""One package per algorithm (models/<algo>/), each exporting SHIPPED = {checkpoint name: recipe};
see models/README.md for what goes in each file."""
