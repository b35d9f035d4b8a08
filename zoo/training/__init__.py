"""What several algorithms' recipes share: the training loop, the torch-module recipe, the image
classifier recipe, the character-LM recipe with its n-gram baseline, and FID."""
