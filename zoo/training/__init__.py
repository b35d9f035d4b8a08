"""What several algorithms' recipes share: the training loop, the torch-module recipe, the image
classifier recipe, the character-LM recipe with its n-gram baseline, what fine-tuning jobs share
(the best weights on a validation piece, rehearsal of the original data), and FID."""
