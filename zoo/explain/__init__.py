"""How models decide, measured: attributions for images and text, and how far each can be trusted."""
