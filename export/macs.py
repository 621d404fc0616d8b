"""Multiply-accumulates (MACs) per example, counted, not guessed: from an exported `.tflite` file's
ops and tensor shapes (`tflite_macs`) and from a Keras model's layers (`keras_macs`).

The rule, the same in both counts: only matrix products cost MACs.
    CONV_2D            out_h · out_w · out_c · k_h · k_w · in_c / groups
    DEPTHWISE_CONV_2D  out_h · out_w · out_c · k_h · k_w
    TRANSPOSE_CONV     in_h · in_w · in_c · k_h · k_w · out_c
    FULLY_CONNECTED    rows · in_features · units          (a Dense layer: the same)
    BATCH_MATMUL       batch · M · N · K                   (an einsum or matmul in a layer: the same)
Element-wise and data-movement ops (ADD, MUL, EXP, LOGISTIC, GATHER, pooling, SOFTMAX, SUM, ...)
count 0 MACs: the bilinear sampler's four weighted reads, the Gaussian filterbank's exponentials
and the LSTM gates' element-wise products are not in the count. A loop kept as a TFLite WHILE
(DRAW's generator) counts its body once per pass.
"""

from pathlib import Path

import numpy as np

from export.tflite import read_flatbuffer

MATRIX_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED", "BATCH_MATMUL")
CONTROL_FLOW_OPS = ("WHILE", "IF", "CALL_ONCE")


def _op_macs(name, inputs, output):
    """MACs of one TFLite op from its input shapes and its output shape (the rule above)."""
    out = int(np.prod(output))
    if name == "CONV_2D":  # filter (out_c, k_h, k_w, in_c / groups)
        return out * int(np.prod(inputs[1][1:]))
    if name == "DEPTHWISE_CONV_2D":  # filter (1, k_h, k_w, out_c)
        return out * int(inputs[1][1] * inputs[1][2])
    if name == "TRANSPOSE_CONV":  # inputs (output shape, filter (out_c, k_h, k_w, in_c), input)
        return int(np.prod(inputs[2])) * int(np.prod(inputs[1][:3]))
    if name == "FULLY_CONNECTED":  # weights (units, in_features); output (..., units)
        return out * int(inputs[1][1])
    if name == "BATCH_MATMUL":  # output (..., M, N); K is the dimension of input 0 that is not M
        first = inputs[0]
        return out * int(first[-1] if first[-2] == output[-2] else first[-2])
    return 0


def tflite_macs(path):
    """Multiply-accumulates per example of the `.tflite` file at `path` (the rule in the module
    docstring), summed over its ops. A batch-flexible input (-1) is resized to batch 1 and the file
    run once on zeros, so every shape is concrete; a fixed batch b divides the total by b."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    path = Path(path)
    if path.suffix != ".tflite" or not path.is_file():
        raise ValueError(f"tflite_macs needs an existing .tflite file; got {str(path)!r}")
    interpreter = Interpreter(model_path=str(path),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    if len(interpreter.get_signature_list()) > 1:
        raise ValueError(f"{path.name} has the signatures {sorted(interpreter.get_signature_list())}: "
                         "tflite_macs counts files with one")
    batch = 1
    for detail in interpreter.get_input_details():
        if -1 in detail["shape_signature"][1:]:
            raise ValueError(f"{path.name}: input {detail['name']!r} has the shape {list(detail['shape_signature'])}; "
                             "tflite_macs needs every dimension but the batch fixed")
        if detail["shape_signature"][0] == -1:
            interpreter.resize_tensor_input(detail["index"], [1, *detail["shape"][1:]])
        else:
            batch = int(detail["shape"][0])
    interpreter.allocate_tensors()
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    interpreter.invoke()  # sizes the tensors whose shape depends on the batch
    shapes = {t["index"]: tuple(int(d) for d in t["shape"]) for t in interpreter.get_tensor_details()}
    model, op_type = read_flatbuffer(path.read_bytes())
    return _graph_macs(model, op_type, 0, shapes, path.name) // batch


def _graph_macs(model, op_type, index, shapes, name):
    """MACs of subgraph `index` run once, with its tensors' `shapes` (None: the shapes stored in the
    file, batch 1, as in a loop body); a WHILE adds its body's MACs times its trip count."""
    graph = model.subgraphs[index]
    if shapes is None:
        shapes = {i: tuple(int(d) for d in t.shape) for i, t in enumerate(graph.tensors)}
    total = 0
    for op in graph.operators:
        kind = op_type(op)
        if kind == "WHILE":
            body = op.builtinOptions.bodySubgraphIndex
            total += while_trips(model, op_type, graph, op, name) * _graph_macs(model, op_type, body, None, name)
        elif kind in CONTROL_FLOW_OPS:
            raise ValueError(f"{name} has a {kind} op: the ops of its subgraphs are not counted")
        elif kind in MATRIX_OPS:
            inputs = [shapes[i] if i >= 0 else None for i in op.inputs]
            total += _op_macs(kind, inputs, shapes[op.outputs[0]])
    return total


def while_trips(model, op_type, graph, op, name):
    """How many times the WHILE `op` of `graph` runs its body, for the loop `ops.fori_loop` writes: a
    counter that starts at a constant, goes up by 1 a pass, and runs while it is below a constant."""

    def constant(tensors, i):
        data = model.buffers[tensors[i].buffer].data
        return None if data is None else int(np.frombuffer(bytes(data), np.int32)[0])

    cond = model.subgraphs[op.builtinOptions.condSubgraphIndex]
    body = model.subgraphs[op.builtinOptions.bodySubgraphIndex]
    if len(cond.operators) == 1 and op_type(cond.operators[0]) == "LESS":
        counter, bound = cond.operators[0].inputs
        if counter in cond.inputs and constant(cond.tensors, bound) is not None:
            k = list(cond.inputs).index(counter)
            step = [o for o in body.operators if op_type(o) == "ADD" and body.inputs[k] in o.inputs
                    and body.outputs[k] in o.outputs]
            start = constant(graph.tensors, op.inputs[k])
            if step and start is not None and 1 in [constant(body.tensors, i) for i in step[0].inputs]:
                return max(0, constant(cond.tensors, bound) - start)
    raise ValueError(f"{name} has a WHILE loop that is not `counter < constant` from a constant start: "
                     "its trip count is not known from the file")


# Keras: per layer, from its weights and the shapes it sees.


def dense_macs(layer, input_shape):
    """Dense: rows · in_features · units, rows = the product of the input's leading axes (batch 1)."""
    return int(np.prod(input_shape[1:-1], dtype=int)) * int(input_shape[-1]) * layer.units


def lstm_cell_macs(cell, input_features):
    """Keras LSTMCell, one step: x·W (in · 4u) + h·U (u · 4u)."""
    return 4 * cell.units * (input_features + cell.units)


def layer_macs(layer, input_shape):
    """(MACs, output shape) of a plain Keras layer (Conv2D, DepthwiseConv2D, Conv2DTranspose, Dense, a
    Sequential of them, or a weightless layer: pooling, Flatten, Dropout, ...) on `input_shape` (batch 1)."""
    import keras

    input_shape = (1, *input_shape[1:])
    if isinstance(layer, keras.Sequential):
        total = 0
        for sub in layer.layers:
            macs, input_shape = layer_macs(sub, input_shape)
            total += macs
        return total, input_shape
    output = tuple(layer.compute_output_shape(input_shape))
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        k_h, k_w = layer.kernel_size
        return int(np.prod(output)) * k_h * k_w, output
    if isinstance(layer, keras.layers.Conv2DTranspose):
        k_h, k_w = layer.kernel_size
        return int(np.prod(input_shape)) * k_h * k_w * layer.filters, output
    if isinstance(layer, keras.layers.Conv2D):
        k_h, k_w = layer.kernel_size
        return int(np.prod(output)) * k_h * k_w * input_shape[-1] // layer.groups, output
    if isinstance(layer, keras.layers.Dense):
        return dense_macs(layer, input_shape), output
    if layer.weights:
        raise NotImplementedError(f"keras_macs does not count layer {layer.name!r} ({type(layer).__name__})")
    return 0, output


def _cnn(model):
    return layer_macs(model.classifier, (1, *model.image_shape))[0]


def _stn(model):
    transformer = model.transformer
    localisation, features = layer_macs(transformer.localisation, (1, *model.image_shape))
    regressor = dense_macs(transformer.regressor, (1, int(np.prod(features[1:]))))
    classifier = layer_macs(model.classifier, (1, *model.output_size, model.image_shape[2]))[0]
    return localisation + regressor + classifier


def _ram(model):
    """Pyramid (level s ≥ 1: (H_{s−1}/2)(W_{s−1}/2) block means as a (2C → C) matmul, built once)
    + T glimpses × (locator, glimpse network, core) + the action network. Counted is what the
    probabilities depend on: the baseline (a training-only output) and, with random glimpses, the
    unused locator are dropped from the exported graph, and from this count."""
    height, width, channels = model.image_shape
    pyramid = 0
    for _ in range(1, model.scales):
        height, width = (height + 1) // 2, (width + 1) // 2
        pyramid += height * width * 2 * channels * channels
    net = model.glimpse_net
    retina = model.scales * model.glimpse_size**2 * channels
    glimpse = (dense_macs(net.h_g, (1, retina)) + dense_macs(net.h_l, (1, 2))
               + dense_macs(net.from_glimpse, (1, net.glimpse_units)) + dense_macs(net.from_location, (1, net.location_units)))
    if model.core == "lstm":
        core = lstm_cell_macs(model.core_lstm, net.units)
    else:
        core = dense_macs(model.core_h, (1, model.hidden_units)) + dense_macs(model.core_g, (1, net.units))
    locator = 0 if model.random_glimpses else dense_macs(model.locator, (1, model.hidden_units))
    action = dense_macs(model.action, (1, model.hidden_units))
    return model.mc_samples * (pyramid + model.glimpses * (locator + glimpse + core) + action)


def _draw_classifier(model):
    """T reads × (attention head + F_Y·x (N·H·W·C) + ·F_Xᵀ (N·N·W·C) + LSTM step) + action."""
    height, width, channels = model.image_shape
    n = model.read_size
    head = dense_macs(model.reader.attention_head, (1, model.units))
    filters = n * height * width * channels + n * n * width * channels
    core = lstm_cell_macs(model.core, n * n * channels)
    return model.glimpses * (head + filters + core) + dense_macs(model.action, (1, model.units))


def _grid_lstm_image(model):
    """Input projection of R·C patches + the blocks' products + classifier. A block's transforms
    are H (3d) · W_i (3d → 4d). Tied, the three share H and W: one product serves them (Keras
    writes it three times, the exported graph computes it once). Untied, a transform counts only
    where its output is read: rows but the last (r), columns but the last (c), depths but the top,
    and the top of the last patch (d), the one block whose output is the model's."""
    grid = model.grid
    height, width, channels = model.image_shape
    rows, columns, depth = height // grid.patch_size, width // grid.patch_size, grid.depth
    projection = rows * columns * dense_macs(grid.input_projection, (1, grid.patch_size**2 * channels))
    if grid.tied:
        products = rows * columns * depth
    else:
        products = sum((i < rows - 1) + (j < columns - 1) + (k < depth - 1 or (i, j) == (rows - 1, columns - 1))
                       for i in range(rows) for j in range(columns) for k in range(depth))
    block = (3 * grid.units) * (4 * grid.units)
    return projection + products * block + dense_macs(model.classifier, (1, 2 * grid.units))


KERAS_COUNTS = {"cnn": _cnn, "stn": _stn, "ram": _ram, "draw_classifier": _draw_classifier,
                "grid_lstm_image": _grid_lstm_image}


def keras_macs(model):
    """Multiply-accumulates per example of a model's inference, counted from its layers (the rule in
    the module docstring): the zoo's image classifiers (KERAS_COUNTS), or a plain keras.Sequential
    with a known input shape (Conv2D, DepthwiseConv2D, Conv2DTranspose, Dense, weightless layers)."""
    import keras

    from zoo import registry

    name = next((e.name for e in map(registry.entry, registry.model_names()) if type(model) is e.builder), None)
    if name is None and isinstance(model, keras.Sequential):
        return layer_macs(model, model.input_shape)[0]
    if name is None:
        raise ValueError(f"keras_macs counts the zoo's models and keras.Sequential models; got {type(model).__name__}")
    if name not in KERAS_COUNTS:
        raise NotImplementedError(f"keras_macs is not implemented for model {name!r}; it counts {', '.join(KERAS_COUNTS)}")
    return KERAS_COUNTS[name](model)
