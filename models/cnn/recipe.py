"""How the shipped CNN is trained: the shared image-classifier recipe with this model's settings."""
from models.cnn.model import CNNConfig, FashionCNN
from zoo.training.image_classifier import ClassifierTraining, ImageClassifierRecipe

SHIPPED = {
    "cnn-fashion": ImageClassifierRecipe(
        FashionCNN, CNNConfig(), title="CNN",
        training=ClassifierTraining(epochs=24, batch_size=128, lr=3e-3, weight_decay=5e-4, label_smoothing=0.1)),
}
