// Command pulumi-language-python is china-site's own Python language host for the Pulumi engine.
//
// Why this exists: the upstream host (module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
// is not served by the Go module proxy these machines use, so it cannot be built here. This is a small,
// independent implementation of the LanguageRuntime gRPC service with the behaviour the v3.274.1 engine relies on:
//
//   - Run: runs Pulumi's own `pulumi-language-python-exec` script (shipped in the sdk/v3 module, copied next to this
//     binary by tools/pulumi-engine.sh) with the project's virtualenv python, the same command-line flags and the
//     PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS environment the upstream host passes;
//   - RunPlugin: runs a Python plugin directory (a CrossGuard policy pack: `python <pack dir> <engine address>`) in its
//     own virtualenv (runtime option `virtualenv`, default `venv`), streaming stdout/stderr and the exit code;
//   - GetRequiredPackages: the resource plugins the installed pulumi_* packages declare (pulumi-plugin.json, or the
//     package name and version), so the engine can find them before the program runs;
//   - InstallDependencies, GetProgramDependencies, About, GetPluginInfo, Handshake, RuntimeOptionsPrompts.
//
// Code generation (GenerateProgram/Project/Package, Pack, Template) is not implemented: `pulumi convert`,
// `pulumi package gen-sdk` and friends are not part of china-site's test loop.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped at build time (-ldflags -X main.version=...) with the engine version it was built for.
var version = "3.274.1"

const (
	execScript = "pulumi-language-python-exec"
	// The exec script exits with this code after it has already shown the user an actionable message.
	exitAfterUserMessage = 32
)

func main() {
	tracing := flag.String("tracing", "", "tracing endpoint (passed through to the program)")
	useExecutor := flag.String("use-executor", "", "run this script instead of the exec script next to the host")
	// Accepted for compatibility with older engines; the runtime options in Pulumi.yaml are what count.
	flag.String("virtualenv", "", "[obsolete]")
	flag.String("root", "", "[obsolete]")
	flag.String("typechecker", "", "[obsolete]")
	flag.String("toolchain", "pip", "[obsolete]")
	flag.Parse()
	logging.InitLogging(false, 0, false)

	executor := *useExecutor
	if executor == "" {
		self, err := os.Executable()
		if err != nil {
			cmdutil.Exit(fmt.Errorf("could not locate this executable: %w", err))
		}
		executor = filepath.Join(filepath.Dir(self), execScript)
		if _, err := os.Stat(executor); err != nil {
			cmdutil.Exit(fmt.Errorf("missing %s next to the language host: %w", execScript, err))
		}
	}

	engineAddress := ""
	if flag.NArg() > 0 {
		engineAddress = flag.Arg(0)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		stop()
		close(cancel)
	}()
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start the engine health check: %w", err))
		}
	}

	host := &languageHost{executor: executor, engineAddress: engineAddress, tracing: *tracing}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host gRPC server: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host stopped serving: %w", err))
	}
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	executor      string
	engineAddress string
	tracing       string
}

// options reads the `runtime.options` of Pulumi.yaml / PulumiPolicy.yaml (virtualenv, toolchain, typechecker).
func options(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{Root: info.GetRootDirectory(), ProgramDir: info.GetProgramDirectory()}
	raw := map[string]any{}
	if info.GetOptions() != nil {
		raw = info.GetOptions().AsMap()
	}
	if v, ok := raw["virtualenv"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("runtime option virtualenv must be a string")
		}
		opts.Virtualenv = s
	}
	if v, ok := raw["typechecker"]; ok {
		switch v {
		case "mypy":
			opts.Typechecker = toolchain.TypeCheckerMypy
		case "pyright":
			opts.Typechecker = toolchain.TypeCheckerPyright
		default:
			return opts, fmt.Errorf("unsupported runtime option typechecker: %v", v)
		}
	}
	if v, ok := raw["toolchain"]; ok {
		switch v {
		case "pip":
			opts.Toolchain = toolchain.Pip
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		case "uv":
			opts.Toolchain = toolchain.Uv
		default:
			return opts, fmt.Errorf("unsupported runtime option toolchain: %v", v)
		}
	}
	return opts, nil
}

// programToolchain is the Python toolchain a program's `runtime.options` ask for.
func programToolchain(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	opts, err := options(info)
	if err != nil {
		return nil, err
	}
	return toolchain.ResolveToolchain(opts)
}

func (h *languageHost) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.GetEngineAddress()
	if h.engineAddress != "" {
		hctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		if err := rpcutil.Healthcheck(hctx, h.engineAddress, 5*time.Minute, stop); err != nil {
			return nil, fmt.Errorf("could not start the engine health check: %w", err)
		}
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *languageHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return nil, status.Errorf(codes.Unimplemented, "GetRequiredPlugins is superseded by GetRequiredPackages")
}

// listPulumiPackages prints, as JSON, every installed distribution that is a Pulumi package: one whose module ships a
// pulumi-plugin.json, or whose name starts with pulumi- / pulumi_ (first-party convention).
const listPulumiPackages = `
import importlib.metadata as md, json, os, sys
out = []
for dist in md.distributions():
    name = (dist.metadata["Name"] or "").strip()
    if not name:
        continue
    module = name.lower().replace("-", "_")
    plugin = None
    try:
        path = dist.locate_file(os.path.join(module, "pulumi-plugin.json"))
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                plugin = json.load(fh)
    except Exception as exc:
        print(f"{name}: unreadable pulumi-plugin.json: {exc}", file=sys.stderr)
        sys.exit(3)
    if plugin is None and not (module.startswith("pulumi_")):
        continue
    out.append({"name": name, "version": dist.version, "plugin": plugin})
print(json.dumps(out))
`

// Packages known to have no resource plugin (pulumi-policy has no pulumi-plugin.json saying so).
var withoutPlugin = map[string]bool{"pulumi_policy": true, "pulumi_esc_sdk": true}

type pythonPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Plugin  *struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"plugin"`
}

var plainVersion = regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.(\d+))?$`)

// pluginVersion turns a plain PEP 440 release (3.86.0, 3.86) into the plugin's semver; pre-/post-releases give "".
func pluginVersion(v string) string {
	m := plainVersion.FindStringSubmatch(v)
	if m == nil {
		return ""
	}
	parts := []string{m[1], "0", "0"}
	if m[2] != "" {
		parts[1] = m[2]
	}
	if m[3] != "" {
		parts[2] = m[3]
	}
	return "v" + strings.Join(parts, ".")
}

func (h *languageHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	tc, err := programToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", listPulumiPackages)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the virtualenv's Pulumi packages: %w", err)
	}
	var pkgs []pythonPackage
	if err := json.Unmarshal(out, &pkgs); err != nil {
		return nil, fmt.Errorf("listing the virtualenv's Pulumi packages: %w", err)
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range pkgs {
		module := strings.ReplaceAll(strings.ToLower(p.Name), "-", "_")
		if withoutPlugin[module] {
			continue
		}
		name, ver, server := strings.TrimPrefix(module, "pulumi_"), "", ""
		name = strings.ReplaceAll(name, "_", "-")
		if p.Plugin != nil {
			if !p.Plugin.Resource {
				continue
			}
			if p.Plugin.Name != "" {
				name = p.Plugin.Name
			}
			ver, server = p.Plugin.Version, p.Plugin.Server
		}
		if ver == "" {
			ver = pluginVersion(p.Version)
			if ver == "" {
				logging.V(5).Infof("GetRequiredPackages: no plugin version for %s %s", p.Name, p.Version)
				continue
			}
		}
		if !strings.HasPrefix(ver, "v") {
			ver = "v" + ver
		}
		resp.Packages = append(resp.Packages, &pulumirpc.PackageDependency{
			Name: name, Version: ver, Kind: "resource", Server: server,
		})
	}
	return resp, nil
}

// runArgs is the exec script's command line, flag for flag what the upstream host passes.
func (h *languageHost) runArgs(req *pulumirpc.RunRequest) []string {
	var args []string
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())
	entry := req.GetInfo().GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	return append(args, req.GetArgs()...)
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if h.engineAddress == "" {
		return nil, errors.New("the engine must call Handshake before Run")
	}
	opts, err := options(req.GetInfo())
	if err != nil {
		return nil, err
	}
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "this language host (china-site's) does not support --attach-debugger"}, nil
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	if opts.Typechecker != toolchain.TypeCheckerNone {
		return nil, errors.New("the typechecker runtime option is not supported by china-site's language host")
	}

	config := "{}"
	if req.GetConfig() != nil {
		b, err := json.Marshal(req.GetConfig())
		if err != nil {
			return nil, fmt.Errorf("serializing configuration: %w", err)
		}
		config = string(b)
	}
	secretKeys := "[]"
	if req.GetConfigSecretKeys() != nil {
		b, err := json.Marshal(req.GetConfigSecretKeys())
		if err != nil {
			return nil, fmt.Errorf("serializing configuration secret keys: %w", err)
		}
		secretKeys = string(b)
	}

	cmd, err := tc.Command(ctx, append([]string{h.executor}, h.runArgs(req)...)...)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	if req.GetConfig() != nil {
		env = append(env, "PULUMI_CONFIG="+config)
	}
	cmd.Env = append(env, "PULUMI_CONFIG_SECRET_KEYS="+secretKeys)

	if err := cmd.Run(); err != nil {
		_ = os.Stdout.Sync()
		_ = os.Stderr.Sync()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("problem executing program (could not run language executor): %v", err),
			}, nil
		}
		code := -1
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok {
			code = ws.ExitStatus()
		}
		switch code {
		case exitAfterUserMessage:
			return &pulumirpc.RunResponse{Bail: true}, nil
		case 0, -1:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited unexpectedly: %v", exitErr)}, nil
		default:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", code)}, nil
		}
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin runs a Python plugin directory (policy pack, or a provider with PulumiPlugin.yaml) via its __main__.py,
// in the plugin's own virtualenv; it streams output and finally the exit code.
func (h *languageHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	opts, err := options(req.GetInfo())
	if err != nil {
		return err
	}
	// Plugins never run in the ambient Python: default virtualenv "venv", like the upstream host.
	if opts.Toolchain == toolchain.Pip && opts.Virtualenv == "" {
		opts.Virtualenv = "venv"
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(opts.Root, "__main__.py")); err != nil {
		return fmt.Errorf("plugin %s has no __main__.py (china-site's language host runs plugin directories only): %w",
			opts.Root, err)
	}
	cmd, err := tc.Command(server.Context(), append([]string{req.GetInfo().GetProgramDirectory()}, req.GetArgs()...)...)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd.Dir = req.GetPwd()
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				return server.Send(&pulumirpc.RunPluginResponse{
					Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(ws.ExitStatus())}, //nolint:gosec
				})
			}
			return fmt.Errorf("plugin exited unexpectedly: %w", exitErr)
		}
		return fmt.Errorf("problem executing plugin program: %w", err)
	}
	return closer.Close()
}

func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	opts, err := options(req.GetInfo())
	if err != nil {
		return err
	}
	if req.GetIsPlugin() && opts.Toolchain == toolchain.Pip && opts.Virtualenv == "" {
		opts.Virtualenv = "venv"
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	_, _ = stdout.Write([]byte("Installing dependencies...\n\n"))
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	if err := tc.InstallDependencies(server.Context(), req.GetInfo().GetProgramDirectory(),
		req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
		return err
	}
	_, _ = stdout.Write([]byte("Finished installing dependencies\n\n"))
	return closer.Close()
}

func (h *languageHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *languageHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	opts := toolchain.PythonOptions{Toolchain: toolchain.Pip}
	if req.GetInfo() != nil {
		var err error
		if opts, err = options(req.GetInfo()); err != nil {
			return nil, err
		}
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata:   map[string]string{"languageHost": "china-site " + version},
	}, nil
}

func (h *languageHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := programToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	deps, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("listing python dependencies: %w", err)
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, d := range deps {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return resp, nil
}
