using BenchmarkDotNet.Running;
using Checkups.Benchmarks;

// `report --out FILE` runs the quick report; anything else goes to BenchmarkDotNet (e.g. --filter '*').
// `serve-http` and `serve-admin` are the HTTP comparison's backend and the admin benchmark's host, started by the report itself.
// `grpc` compares the checkups gRPC policy with round_robin (its server, `serve-grpc`, is started by it).
return args.Length > 0 && args[0] == "report" ? QuickReport.Run(args)
    : args.Length > 0 && args[0] == "serve-http" ? await HttpHandlerBench.ServeAsync()
    : args.Length > 0 && args[0] == "serve-admin" ? await AdminPut.ServeAsync()
    : args.Length > 0 && args[0] == "serve-backends" ? await YarpBench.ServeBackendsAsync()
    : args.Length > 0 && args[0] == "grpc" ? await GrpcBench.RunAsync()
    : args.Length > 0 && args[0] == "serve-grpc" ? await GrpcBench.ServeAsync()
    : RunBenchmarkDotNet(args);

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(QuickReport).Assembly).Run(args);
    return 0;
}
