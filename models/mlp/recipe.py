"""How the shipped MLP is trained: the shared image-classifier recipe with this model's settings."""
from models.mlp.model import FashionMLP, MLPConfig
from zoo.training.image_classifier import ClassifierTraining, ImageClassifierRecipe

SHIPPED = {
    "mlp-fashion": ImageClassifierRecipe(
        FashionMLP, MLPConfig(), title="MLP",
        training=ClassifierTraining(epochs=40, batch_size=128, lr=1e-3, weight_decay=1e-2,
                                    label_smoothing=0.1, augment=False)),
}
