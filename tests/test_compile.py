"""torch.compile on the CPU (dynamo's aot_eager): every quantizer and straight-through estimator
compiles as one graph, forward and backward, with no recompile as training progress changes and no
in-place op in a custom Function's forward; train.py records what it compiled."""
import pytest
import torch
import torch.nn as nn

import batches
import common
import devices
import estimators
import flags
import qlayers
import quant
import train

torch._dynamo = pytest.importorskip("torch._dynamo")

METHODS = [("bitnet", {}), ("ttq", {}), ("twn", {}), ("bc", {}), ("bc", dict(stochastic=True)),
           ("sr", {}), ("xnor", dict(wbits=1, abits=32)), ("xnor", dict(wbits=1, abits=1)),
           ("dorefa", dict(wbits=2, abits=2)), ("dorefa", dict(wbits=1, abits=8)),
           ("qnn", dict(wbits=1, abits=1)), ("qnn", dict(wbits=2, abits=8))]
STES = [(method, dict(ste=ste)) for method in ("bc", "twn") for ste in estimators.SURROGATES] + \
       [("xnor", dict(wbits=1, abits=1, ste="ede")), ("qnn", dict(wbits=1, abits=1, ste="reste"))]


def mixed_model(configs):
    """One quantized conv per (method, options), each followed by batch norm and hardtanh, then a
    quantized linear."""
    layers = []
    for method, opts in configs:
        conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        layers += [qlayers.quantize_layer(conv, method, **opts), nn.BatchNorm2d(4), nn.Hardtanh()]
    head = qlayers.quantize_layer(nn.Linear(4 * 4 * 4, 3), "qnn", wbits=2, abits=2)
    return nn.Sequential(*layers, nn.Flatten(), head)


@pytest.mark.parametrize("configs", [METHODS, STES], ids=["methods", "stes"])
def test_every_quantizer_compiles_as_one_graph_without_recompiling_when_progress_changes(
        configs):
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = mixed_model(configs)
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)  # a graph break raises
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(8, 4, 4, 4), torch.arange(8) % 3
    with torch._dynamo.config.patch(error_on_recompile=True):
        for progress in (0.1, 0.7, 0.9):
            qlayers.set_progress(model, progress)
            loss = nn.functional.cross_entropy(compiled(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            qlayers.after_step(model)
            assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


IN_PLACE = {"iadd", "isub", "imul", "itruediv", "ipow", "iand", "ior", "setitem"}


def test_no_custom_functions_forward_mutates_a_tensor_when_compiled():
    # torch 2.11's compiler lost the gradient through sign's add_ and sign_ (docs/gpus.md)
    graphs = []
    torch._dynamo.reset()
    for configs in (METHODS, STES):
        torch.compile(mixed_model(configs), backend=lambda gm, inputs: graphs.append(gm) or gm,
                      fullgraph=True)(torch.randn(8, 4, 4, 4))
    # dynamo traces each custom Function's forward into a subgraph fwd_body_<i>
    forwards = [m for g in graphs for name, m in g.named_modules() if name.startswith("fwd_body")]
    calls = [n.target if n.op == "call_method" else getattr(n.target, "__name__", "")
             for m in forwards for n in m.graph.nodes if n.op in ("call_method", "call_function")]
    assert len(forwards) > 20 and "sign" in calls
    # x.add_(y), torch.clamp_(x), x += y, x[i] = y
    mutating = [c for c in calls if c.endswith("_") and not c.startswith("_") or c in IN_PLACE]
    assert not mutating, calls
    torch._dynamo.reset()


def test_compiled_and_eager_steps_agree():
    torch.manual_seed(0)
    eager = mixed_model([m for m in METHODS if m[1].get("stochastic") is None and m[0] != "sr"])
    twin = mixed_model([m for m in METHODS if m[1].get("stochastic") is None and m[0] != "sr"])
    twin.load_state_dict(eager.state_dict())
    compiled = torch.compile(twin, backend="aot_eager", fullgraph=True)
    x = torch.randn(8, 4, 4, 4)
    a, b = eager(x), compiled(x)
    a.square().sum().backward()
    b.square().sum().backward()
    assert torch.allclose(a, b, atol=1e-5)
    assert all(torch.allclose(p.grad, q.grad, atol=1e-4) for p,
               q in zip(eager.parameters(), twin.parameters()))


def run_compiled(tmp_path, monkeypatch, capsys, *flags):
    monkeypatch.setattr(devices, "COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    argv = ["--model", "lenet5", "--dataset", "mnist", "--fake-data", "--fake-size", "28",
            "--epochs", "2", "--steps-per-epoch", "2", "--device", "cpu", "--quiet", "--compile",
            "--out", str(tmp_path), *flags]
    try:
        code = train.main(argv)
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr()


def test_train_records_that_the_run_was_compiled_in_one_graph(tmp_path, monkeypatch, capsys):
    code, _ = run_compiled(tmp_path, monkeypatch, capsys, "--quant", "xnor", "--wbits", "1",
                           "--abits", "1", "--ste", "ede")
    assert code == 0
    results = common.read_json(tmp_path / "mnist/lenet5/xnor_w1a1_ste-ede_s0/results.json")
    assert results["status"] == "completed" and results["compiled"] is True
    # the model's graph and the dynamics' update's
    assert (results["compiled_graphs"], results["graph_breaks"], results["recompiles"]) == (2, 0, 0)


def test_a_model_that_cannot_be_compiled_is_one_error_line(tmp_path, monkeypatch, capsys):
    # a graph break inside the quantizer, as an unsupported operation would make one
    def breaking(self, w):
        torch._dynamo.graph_break()
        return w
    monkeypatch.setattr(quant.TWN, "weight", breaking)
    code, out = run_compiled(tmp_path, monkeypatch, capsys, "--quant", "twn")
    assert code == 2 and "Traceback" not in out.err
    assert (out.err.strip().startswith("error: torch.compile cannot compile")
            and "--no-compile" in out.err)
    assert len(out.err.strip().splitlines()) == 1


class AtenOps(torch.utils._python_dispatch.TorchDispatchMode):
    """The names of the aten operations run inside it."""

    def __init__(self):
        super().__init__()
        self.names = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__  # index, not index.Tensor
        if name == "index" and any(t is not None and t.dtype == torch.bool for t in args[1]):
            # its output size needs the mask's count, read back from the device
            name = "index with a boolean mask"
        self.names.append(name)
        return func(*args, **(kwargs or {}))


# operations that wait for the device: a value read back (item, nonzero's output size, a boolean
# mask's selection)
SYNCING = {"_local_scalar_dense", "nonzero", "masked_select", "index with a boolean mask"}


def test_no_quantizer_waits_for_the_device_in_its_step():
    model = mixed_model(METHODS + STES)
    x, y = torch.randn(8, 4, 4, 4), torch.arange(8) % 3
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with AtenOps() as ops:
        qlayers.set_progress(model, 0.5)
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        qlayers.after_step(model, clip_factor=2.0)
    assert ops.names and not SYNCING & set(ops.names), SYNCING & set(ops.names)


def test_a_steps_batch_draws_nothing_and_copies_nothing_from_the_host():
    # the epoch's crops, flips, order and mixup partners are drawn at its start and sent in one
    # transfer; a step only indexes them (on a GPU a draw or a tensor made from host values is a
    # copy and a wait at every step)
    args = flags.resolve(flags.parse_args(["--dataset", "cifar10", "--device", "cpu",
                                           "--batch-size", "8"]))
    data = dict(train_x=torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8),
                train_y=torch.arange(40) % 10,
                mean=torch.tensor([120.0, 110.0, 100.0]), std=torch.tensor([60.0, 60.0, 60.0]))
    draws = batches.epoch_draws(args, data, torch.Generator().manual_seed(3), 5)
    again = batches.epoch_draws(args, data, torch.Generator().manual_seed(3), 5)
    # the same (seed, epoch), the same epoch
    assert all(torch.equal(draws[k], again[k]) for k in draws)
    assert (sorted(draws["order"].flatten().tolist()) == list(range(40))
            and draws["partner"].shape == (5, 8))
    with AtenOps() as ops:
        for x, y, partner in batches.train_batches(args, data, draws, 5):
            x = batches.to_input(args, x, data)
            x = 0.7 * x + 0.3 * x[partner]
    host = {"randint", "rand", "randperm", "bernoulli", "lift_fresh", "normal", "uniform"}
    assert not (host | SYNCING) & set(ops.names), (host | SYNCING) & set(ops.names)
