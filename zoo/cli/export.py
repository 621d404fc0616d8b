"""zoo export NAME: export pretrained weights to a TFLite file or a SavedModel, checked against
Keras before it is kept, and report the check, the test metric beside Keras's, and latency."""

HELP = "export pretrained weights (TFLite or SavedModel), parity-checked and measured"
QUANTIZE = ("fp32", "float16", "dynamic", "int8")


def add_arguments(parser):
    parser.add_argument("name", help="a model name (zoo list)")
    parser.add_argument("--weights", default="default", help="a weights tag (zoo info NAME; default: the model's default)")
    parser.add_argument("--format", choices=("tflite", "saved_model"), default="tflite", help="the file to write")
    parser.add_argument("--quantize", choices=QUANTIZE, default="fp32",
                        help="TFLite weights: float32, float16, int8 weights with float activations, or full int8")
    parser.add_argument("--out", help="the file (or folder) to write (default: MODEL.TAG[.QUANTIZE].tflite)")
    parser.add_argument("--write", action="store_true", help="record the result in the model card")
    parser.add_argument("--eval-limit", type=int, help="measure the test metric on the first N test examples only")


def _classifier(r):
    print(f"wrote {r['path']}: {r['size_kib']} KiB, parity max |LiteRT - Keras| {r['parity_max_abs_diff']:.2e}, "
          f"top-1 agreement {r['top1_agreement_percent']}%")
    print(f"test accuracy: Keras {r['test_accuracy_keras']:.2f}%, LiteRT {r['test_accuracy_tflite']:.2f}% "
          f"({r['accuracy_change_points']:+.2f} points, {r['test_examples']} examples)")
    print(f"latency batch 1: LiteRT {r['latency_ms_batch1_litert']:.2f} ms, Keras {r['latency_ms_batch1_keras']:.2f} ms")


def _translator(r):
    print(f"wrote {r['path']} (+ .json vocabularies): {r['size_kib']} KiB; on {r['check_inputs']} test texts "
          f"LiteRT decodes {r['identical_outputs_percent']}% identically to Keras (beam 3: "
          f"{r['identical_beam3_outputs_percent']}%), max |Δ log p| {r['max_abs_log_prob_diff']:.2e}")
    print(f"test exact match: Keras {r['test_exact_match_keras']:.2f}%, LiteRT {r['test_exact_match_tflite']:.2f}% "
          f"({r['exact_match_change_points']:+.2f} points, {r['test_examples']} examples)")
    print(f"latency, one text greedy: LiteRT {r['latency_ms_one_text_greedy_litert']:.2f} ms, "
          f"Keras {r['latency_ms_one_text_greedy_keras']:.2f} ms")


def _captioner(r):
    print(f"wrote {r['path']} (+ .json vocabulary): {r['size_kib']} KiB; on {r['check_inputs']} test "
          f"scenes LiteRT captions {r['identical_outputs_percent']}% identically to Keras (beam 3: "
          f"{r['identical_beam3_outputs_percent']}%), max |Δ log p| {r['max_abs_log_prob_diff']:.2e}")
    print(f"test BLEU-4 (beam 3): Keras {r['test_bleu4_keras']:.2f}, LiteRT {r['test_bleu4_tflite']:.2f}; "
          f"correct captions: Keras {r['test_caption_accuracy_keras']:.2f}%, LiteRT "
          f"{r['test_caption_accuracy_tflite']:.2f}% ({r['test_examples']} scenes)")
    print(f"latency, one image beam 3: LiteRT {r['latency_ms_one_image_beam3_litert']:.2f} ms, "
          f"Keras {r['latency_ms_one_image_beam3_keras']:.2f} ms")


def _generator(r):  # no test metric runs on its exported decoder
    print(f"wrote {r['path']}: {r['size_kib']} KiB, parity max |LiteRT - Keras| "
          f"{r['parity_max_abs_diff']:.2e} on {r['check_inputs']} noise draws")
    print(f"latency batch 1: LiteRT {r['latency_ms_batch1_litert']:.2f} ms, Keras {r['latency_ms_batch1_keras']:.2f} ms")


def _language_model(r):
    print(f"wrote {r['path']} (+ .json vocabulary): {r['size_kib']} KiB, parity max |LiteRT - Keras| "
          f"{r['parity_max_abs_diff']:.2e}, next-character agreement {r['top1_agreement_percent']}%")
    print(f"test bits per character: Keras {r['test_bpc_keras']:.4f}, LiteRT {r['test_bpc_tflite']:.4f} "
          f"({r['bpc_change']:+.4f}, {r['test_characters']:,} characters)")
    print(f"latency, one window: LiteRT {r['latency_ms_batch1_litert']:.2f} ms, Keras {r['latency_ms_batch1_keras']:.2f} ms")


def _stroke_writer(r):
    print(f"wrote {r['path']} (+ .json characters): {r['size_kib']} KiB, parity max |LiteRT - Keras| "
          f"{r['parity_max_abs_diff']:.2e} on {r['check_inputs']} teacher-forced states")
    print(f"test NLL: Keras {r['test_nll_keras']:.2f}, LiteRT {r['test_nll_tflite']:.2f} nats a line "
          f"({r['nll_change']:+.2f}, {r['test_examples']} lines)")
    print(f"latency a point: LiteRT {r['latency_ms_per_point_litert']:.3f} ms, Keras {r['latency_ms_per_point_keras']:.2f} ms")


def _saved_model(r):
    print(f"wrote {r['path']}: {r['size_kib']} KiB, reloaded and checked against Keras")
    for key, value in r.items():
        if key not in ("path", "size_kib"):
            print(f"  {key}: {value}")


TFLITE_REPORTS = {"classifier": _classifier, "translator": _translator, "captioner": _captioner,
                  "generator": _generator, "language_model": _language_model, "question_answerer": _classifier,
                  "stroke_writer": _stroke_writer}


def run(args):
    from export.records import export_record
    from recipes.testset import TestSet
    from zoo import registry

    rec = registry.record(args.name, args.weights)
    result = export_record(rec, args.format, args.quantize, TestSet(rec, args.eval_limit), args.out, args.write)
    report = _saved_model if args.format == "saved_model" else TFLITE_REPORTS[registry.task(args.name)]
    report(result)
    if "int8_float" in result:
        kept = result["int8_float"]
        print(f"int8: float ops {', '.join(kept['float_op_types']) or 'none'}; model's own float choice: ops "
              f"{', '.join(kept['added_ops']) or 'none'}, nodes {', '.join(kept['nodes']) or 'none'} "
              f"({kept['nodes_matched']} matched), thin convolutions {kept.get('thin_convolutions', 0)}"
              f"{'; one scale per weight tensor' if kept.get('per_channel') is False else ''}; "
              f"{kept['quantize_dequantize_ops']} QUANTIZE/DEQUANTIZE ops")
