"""Loss functions of torch.nn, written once against the Python array API standard.

They run unchanged on NumPy, PyTorch, JAX, CuPy, Dask and array-api-strict
arrays, and equal ``torch.nn.functional`` in value and gradient.
"""

from ._primitives import generic_primitives, value_checks
from .classification import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    linear_cross_entropy,
    multilabel_soft_margin_loss,
    nll_loss,
    soft_margin_loss,
)
from .margin import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    pairwise_distance,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from .nn import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    LinearCrossEntropyLoss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from .probabilistic import gaussian_nll_loss, kl_div, poisson_nll_loss
from .regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss
from .sequence import ctc_loss

__version__ = "0.1.0"

__all__ = [
    "l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss",
    "cross_entropy", "linear_cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "multilabel_soft_margin_loss", "soft_margin_loss",
    "kl_div", "poisson_nll_loss", "gaussian_nll_loss",
    "margin_ranking_loss", "hinge_embedding_loss", "multi_margin_loss", "multilabel_margin_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss", "pairwise_distance",
    "ctc_loss",
    "L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss",
    "CrossEntropyLoss", "LinearCrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MultiLabelSoftMarginLoss",
    "SoftMarginLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss",
    "MarginRankingLoss", "HingeEmbeddingLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
    "CosineEmbeddingLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss",
    "CTCLoss",
    "generic_primitives", "value_checks",
]
