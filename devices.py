"""How a run uses its devices: the default memory layout per device and model, the process group
under torchrun and the mean and maximum over its processes, and torch.compile as one graph with its
errors and its counters.
"""
import os

import torch

import common


# ----------------------------------------------------------------------------- memory layout

# models whose every quantizer trains faster in channels_last than in contiguous memory on a CPU,
# measured side by side with `bench.py --layout both` (docs/speed.md): the ResNets (ResNet-20:
# 0.73-0.88x the step time; ResNet-18: 0.82-0.94x); not LeNet-5 (1.12-1.31x) or VGG-16 (0.96-1.02x).
# ResNet-32..56, WRN and ResNet-50 share those blocks
CPU_CHANNELS_LAST_MODELS = frozenset({"resnet18", "resnet50", "resnet20", "resnet32", "resnet44",
                                      "resnet56", "wrn56_2"})


def default_channels_last(device, model_name):
    """--channels-last when not given: always on CUDA (tensor cores want NHWC), for the ResNets on a
    CPU."""
    return device.startswith("cuda") or model_name in CPU_CHANNELS_LAST_MODELS


# --------------------------------------------------------------------- several processes (torchrun)

def setup_distributed(args):
    """Under torchrun (WORLD_SIZE > 1): join the process group and take this process's GPU. Returns
    (rank, world size); (0, 1) for a plain run. On GPUs the group has both backends, NCCL for CUDA
    tensors and gloo for CPU ones."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    import torch.distributed as dist
    if args.device.startswith("cuda"):
        args.device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
        torch.cuda.set_device(args.device)
    dist.init_process_group("cpu:gloo,cuda:nccl" if args.device.startswith("cuda") else "gloo")
    if args.batch_size % world:
        common.fail(f"--batch-size {args.batch_size} must divide evenly over {world} processes")
    return dist.get_rank(), world


def end_distributed(world):
    """Leave the process group (NCCL warns at exit when a group is never destroyed)."""
    import torch.distributed as dist
    if world > 1 and dist.is_initialized():
        dist.destroy_process_group()


def share_buffers(model, world):
    """Every process takes rank 0's buffers (batch norm's running statistics), so that each scores
    its share of the test set with the model rank 0 saves: DDP syncs them at each forward, before
    the step updates them."""
    if world == 1:
        return
    import torch.distributed as dist
    for buffer in model.buffers():
        dist.broadcast(buffer, 0)


def check_same_epoch(epoch, world):
    """Every process resumes at the same epoch: each reads last.pt itself, so the run folder must be
    on a filesystem they all share."""
    if world == 1:
        return
    # a CPU tensor: the group has gloo for those
    seen = max_over_processes(torch.tensor([epoch, -epoch], dtype=torch.float64), world)
    if seen[0] != -seen[1]:
        common.fail(f"the processes resume at different epochs ({int(-seen[1])} to "
                    f"{int(seen[0])}): every process reads the run folder's last.pt, so it must be "
                    "on a filesystem they all share")


def reduced_over_processes(t, world, op):
    """A copy of tensor t reduced over the processes by op ("SUM", "MAX"), on t's own device (NCCL
    takes no CPU tensors); t itself in a single process."""
    if world == 1:
        return t
    import torch.distributed as dist
    t = t.detach().clone()
    dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
    return t


def mean_over_processes(t, world):
    return t if world == 1 else reduced_over_processes(t, world, "SUM") / world


def max_over_processes(t, world):
    return reduced_over_processes(t, world, "MAX")


# ----------------------------------------------------------------------------- torch.compile

# torch.compile's default; the CPU tests use aot_eager, which generates no code
COMPILE_BACKEND = "inductor"


def compile_model(module):
    """torch.compile of the whole model as one graph: a graph break is an error at the first step,
    and so is reaching the recompile limit, where dynamo would otherwise run the model eagerly
    without a word."""
    import torch._dynamo
    torch._dynamo.config.fail_on_recompile_limit_hit = True
    return torch.compile(module, backend=COMPILE_BACKEND, fullgraph=True)


def compile_function(fn):
    """torch.compile of a function of tensors held by Python objects (no graph break allowed)."""
    return torch.compile(fn, backend=COMPILE_BACKEND, fullgraph=True)


def describe_compile_error(e):
    """What went wrong in torch.compile, in one line, or None when e is not a compile error.
    Reaching the recompile limit raises FailOnRecompileLimitHit, which is not a
    TorchDynamoException: it is named with the function that recompiled and the guard that
    failed."""
    import torch._dynamo.exc
    if isinstance(e, torch._dynamo.exc.FailOnRecompileLimitHit):
        return "recompiled past its limit: " + last_recompile()
    # its first line names the backend only
    if isinstance(e, torch._dynamo.exc.BackendCompilerFailed):
        return f"backend '{e.backend_name}' raised {exception_line(e.inner_exception)}"
    if isinstance(e, torch._dynamo.exc.TorchDynamoException):
        return exception_line(e)
    return None


def exception_line(e):
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0][:300]}" if text else type(e).__name__


def last_recompile():
    """'function (file:line) when guard ... failed' of the last recompilation dynamo recorded."""
    from torch._dynamo.utils import guard_failures
    for code, reasons in reversed(list(guard_failures.items())):
        if reasons:
            guard = reasons[-1].splitlines()[0].split("#")[0].split(": ", 1)[-1].strip()
            return (f"{code.co_name} ({code.co_filename}:{code.co_firstlineno}) "
                    f"when guard '{guard}' failed")
    return "no recompilation recorded"


def compile_stats(args, teacher, dynamics=None):
    """What results.json records of torch.compile in this process: graphs compiled, graph breaks,
    recompiles (one graph each for the model, a KD teacher and the dynamics' update)."""
    if not args.compile:
        return dict(compiled=False)
    from torch._dynamo.utils import counters
    graphs = counters["stats"]["unique_graphs"]
    return dict(compiled=True, compiled_graphs=graphs,
                graph_breaks=sum(counters["graph_break"].values()),
                recompiles=max(0, graphs - 1 - (teacher is not None) - (dynamics is not None)))
