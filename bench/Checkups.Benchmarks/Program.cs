using BenchmarkDotNet.Running;
using Checkups.Benchmarks;

// `report --out FILE` runs the quick report; anything else goes to BenchmarkDotNet (e.g. --filter '*').
return args.Length > 0 && args[0] == "report"
    ? QuickReport.Run(args)
    : RunBenchmarkDotNet(args);

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(QuickReport).Assembly).Run(args);
    return 0;
}
