"""How the shipped ResNet-20 is trained: the shared image-classifier recipe with this model's settings."""
from models.resnet.model import ResNet, ResNetConfig
from zoo.training.image_classifier import ClassifierTraining, ImageClassifierRecipe

SHIPPED = {
    "resnet-fashion": ImageClassifierRecipe(
        ResNet, ResNetConfig(width=16, blocks=(3, 3, 3)), title="ResNet-20",
        training=ClassifierTraining(epochs=30, batch_size=128, lr=4e-3, weight_decay=1e-2, label_smoothing=0.1,
                                    channels_last=True)),
}
