"""Inside the layers of any shipped torch checkpoint: which layers a batch of its own test data passes
through, their weights, their activations (dead and saturated units) and a 2-D map of each layer's
activations coloured by class (`analysis`); the batch each family feeds (`batches`); the figures."""
