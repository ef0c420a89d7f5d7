"""Is a training run better than the checkpoint it started from? PSNR compared at equal colourfulness.

A run's output can be more or less colourful than the shipped checkpoint's, and more colour costs PSNR, so PSNR at
one gain says little. This runs the reference as shipped (its gain and temperature), sweeps the candidate's gain
(at the reference's temperature, or --temperature) and prints the candidate's PSNR interpolated at the reference's
colourfulness, in fp32, and the same difference photo by photo with its standard error (a mean within two
standard errors of 0 is a difference the set does not resolve). The release decisions in docs/training.md were made
this way, on the dev sets:

    python scripts/compare_at_equal_colour.py RUN_DIR checkpoints/colorizer-baseline \\
        --data ../shared/data/eval/imagenet-dev
    python scripts/compare_at_equal_colour.py RUN_DIR checkpoints/colorizer-baseline \\
        --data ~/colorize-data/miniplaces/val --protocol native --max-images 1000

Gains are factors on each checkpoint's own chroma_gain (a run folder's is usually 1).
"""

import argparse

from colorize_hub import load_colorizer
from colorize_hub.evaluation.calibration import gain_scores, paired_difference

GAINS = tuple(round(0.6 + 0.1 * i, 1) for i in range(15))  # 0.6 ... 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("candidate", help="checkpoint or run folder")
    parser.add_argument("reference", help="the checkpoint it should beat, as shipped")
    parser.add_argument("--data", required=True, help="a dev folder of ground-truth colour photos")
    parser.add_argument("--protocol", default="short-side-256")
    parser.add_argument("--max-images", type=int, default=None)
    parser.add_argument("--gains", type=float, nargs="+", default=GAINS, help="candidate gains to sweep")
    parser.add_argument("--temperature", type=float, default=None,
                        help="the candidate's annealed-mean temperature (default: the reference's)")
    args = parser.parse_args()
    reference_model, _ = load_colorizer(args.reference)
    temperature = getattr(reference_model.config, "annealed_temperature", None)
    # a regression model has no temperature: gain_scores then ignores the one passed
    reference, gray, truth = gain_scores(args.reference, args.data, args.protocol, (1.0,), args.max_images,
                                         (temperature,))
    reference_scores = next(iter(reference.values()))  # (photos, 2): PSNR, CF
    reference_psnr, reference_cf = reference_scores.mean(axis=0)
    candidate_temperature = args.temperature if args.temperature is not None else temperature
    candidate, _, _ = gain_scores(args.candidate, args.data, args.protocol, tuple(args.gains), args.max_images,
                                  (candidate_temperature,))
    for (_, gain), scores in sorted(candidate.items(), key=lambda item: item[0][1]):
        score, cf = scores.mean(axis=0)
        print(f"  candidate gain {gain:g}: PSNR {score:.3f}, CF {cf:.2f}")
    paired = paired_difference(candidate, next(iter(candidate))[0], reference_scores[:, 0], reference_cf)
    verdict = ("outside the gains searched: widen --gains" if paired is None else
               f"{reference_psnr + paired['mean']:.3f} dB ({paired['mean']:+.3f}, standard error "
               f"{paired['standard_error']:.3f}; better on {paired['wins']} of {paired['photos']} photos; gain "
               f"{paired['gain']:.3f})")
    print(f"{args.data} ({args.protocol}, {args.max_images or 'all'} photos): gray {gray.mean():.3f} dB, "
          f"truth CF {truth.mean():.1f}; reference {reference_psnr:.3f} dB at CF {reference_cf:.2f} (temperature "
          f"{temperature}); candidate at that CF: {verdict}")


if __name__ == "__main__":
    main()
