"""How the shipped character transformer is trained: the shared character-LM recipe
(`zoo.training.char_lm`, which also holds the page's fine-tuning job) with this model's settings."""
from models.transformer.model import CharTransformer, TransformerConfig
from zoo.training.char_lm import CharLMRecipe, CharLMTraining

# A CPU budget like the recurrent models'; at equal characters seen, 16 x 256 batches at 4e-3 beat 32 x 256 at 2e-3.
SHIPPED = {
    "transformer-text": CharLMRecipe(
        CharTransformer, TransformerConfig(context=256, n_layer=4, n_head=4, n_embd=192),
        title="Character transformer (4 blocks x 4 heads, 192 wide)",
        training=CharLMTraining(steps=7200, batch_size=16, seq_len=256, lr=4e-3, weight_decay=0.01, grad_clip=1.0),
        eval_context=256),
}
