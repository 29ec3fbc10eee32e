// Package deploy_test keeps the deployment files at the top of the repository
// (docker-compose.yml, kubernetes.yaml) consistent with the code: neither
// Docker nor Kubernetes runs on the test machines, so this test reads them.
package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/config"
)

// known reports whether name is a setting of internal/config (or one of the
// few other variables the image reads).
func known(name string) bool {
	if name == "OPENCV_FOR_THREADS_NUM" {
		return true
	}
	for _, s := range config.Settings {
		if s.Env == name {
			return true
		}
	}
	return false
}

// load validates env with the code's own configuration loader.
func load(t *testing.T, where string, env map[string]string) *config.Config {
	t.Helper()
	for k := range env {
		if !known(k) {
			t.Errorf("%s: %s is not a setting of internal/config", where, k)
		}
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("%s: the settings do not load: %v", where, err)
	}
	return cfg
}

func listenPort(t *testing.T, cfg *config.Config) int {
	t.Helper()
	_, p, ok := strings.Cut(cfg.ListenAddr, ":")
	n, err := strconv.Atoi(p)
	if !ok || err != nil {
		t.Fatalf("LIVECHECK_LISTEN %q has no port", cfg.ListenAddr)
	}
	return n
}

type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		DependsOn   map[string]any    `yaml:"depends_on"`
		ExtraHosts  []string          `yaml:"extra_hosts"`
	} `yaml:"services"`
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// flag returns the value of --name=value in args.
func flag(t *testing.T, args []string, name string) string {
	t.Helper()
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	t.Fatalf("coturn has no --%s", name)
	return ""
}

func TestDockerCompose(t *testing.T) {
	var c compose
	if err := yaml.Unmarshal(readFile(t, "docker-compose.yml"), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	app, pg, turn := c.Services["app"], c.Services["postgres"], c.Services["coturn"]
	if app.Environment == nil || pg.Environment == nil || turn.Image == "" {
		t.Fatalf("services app, postgres and coturn are required: %v", c.Services)
	}
	cfg := load(t, "docker-compose.yml app", app.Environment)
	published := map[string]bool{}
	for _, p := range app.Ports {
		published[p] = true
	}
	if p := listenPort(t, cfg); !published[fmt.Sprintf("%d:%d", p, p)] {
		t.Errorf("the HTTP port %d is not published: %v", p, app.Ports)
	}
	if cfg.UDPPortMin == 0 || !published[fmt.Sprintf("%d-%d:%d-%d/udp", cfg.UDPPortMin, cfg.UDPPortMax, cfg.UDPPortMin, cfg.UDPPortMax)] {
		t.Errorf("the media range %d-%d/udp is not published as configured: %v", cfg.UDPPortMin, cfg.UDPPortMax, app.Ports)
	}
	if len(cfg.NAT1To1IPs) == 0 {
		t.Error("media behind Docker's NAT needs LIVECHECK_NAT_1TO1_IPS")
	}

	db, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := db.User.Password()
	if _, ok := c.Services[db.Hostname()]; !ok || db.User.Username() != pg.Environment["POSTGRES_USER"] ||
		pw != pg.Environment["POSTGRES_PASSWORD"] || strings.TrimPrefix(db.Path, "/") != pg.Environment["POSTGRES_DB"] {
		t.Errorf("LIVECHECK_DATABASE_URL %q does not match the postgres service", cfg.DatabaseURL)
	}
	if _, ok := app.DependsOn["postgres"]; !ok {
		t.Error("app must wait for postgres")
	}

	// TURN: the app offers coturn with coturn's own credential and port.
	user := flag(t, turn.Command, "user")
	listen := flag(t, turn.Command, "listening-port")
	if user != cfg.TURNUsername+":"+cfg.TURNPassword {
		t.Errorf("coturn --user=%s, app TURN credential %s:%s", user, cfg.TURNUsername, cfg.TURNPassword)
	}
	turnPorts := map[string]bool{}
	for _, p := range turn.Ports {
		turnPorts[p] = true
	}
	for _, proto := range []string{"udp", "tcp"} {
		if !turnPorts[listen+":"+listen+"/"+proto] {
			t.Errorf("coturn's port %s/%s is not published: %v", listen, proto, turn.Ports)
		}
	}
	lo, hi := flag(t, turn.Command, "min-port"), flag(t, turn.Command, "max-port")
	if !turnPorts[fmt.Sprintf("%s-%s:%s-%s/udp", lo, hi, lo, hi)] {
		t.Errorf("coturn's relay range %s-%s/udp is not published: %v", lo, hi, turn.Ports)
	}
	if len(cfg.ICEServers) == 0 {
		t.Fatal("the app offers no TURN server")
	}
	for _, s := range cfg.ICEServers {
		m := regexp.MustCompile(`^turns?:([^:?]+):(\d+)`).FindStringSubmatch(s)
		if m == nil || m[2] != listen {
			t.Errorf("ICE server %q is not coturn's port %s", s, listen)
			continue
		}
		mapped := false
		for _, h := range app.ExtraHosts {
			mapped = mapped || h == m[1]+":host-gateway"
		}
		if !strings.HasSuffix(m[1], ".localhost") || !mapped {
			t.Errorf("ICE server host %s must be loopback for a local browser and mapped to the Docker host for the server (extra_hosts %v)", m[1], app.ExtraHosts)
		}
	}
}

// k8s is the part of a Kubernetes object the test reads.
type k8s struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas int       `yaml:"replicas"`
		Selector yaml.Node `yaml:"selector"`
		TLS      []struct {
			Hosts []string `yaml:"hosts"`
		} `yaml:"tls"`
		Rules []struct {
			Host string `yaml:"host"`
			HTTP struct {
				Paths []struct {
					Path    string `yaml:"path"`
					Backend struct {
						Service struct {
							Name string `yaml:"name"`
							Port struct {
								Name string `yaml:"name"`
							} `yaml:"port"`
						} `yaml:"service"`
					} `yaml:"backend"`
				} `yaml:"paths"`
			} `yaml:"http"`
		} `yaml:"rules"`
		Ports []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		ServiceName string `yaml:"serviceName"`
		Template    struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				HostNetwork                   bool        `yaml:"hostNetwork"`
				TerminationGracePeriodSeconds int         `yaml:"terminationGracePeriodSeconds"`
				Containers                    []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type container struct {
	Name    string `yaml:"name"`
	EnvFrom []struct {
		ConfigMapRef struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom struct {
			FieldRef struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
			SecretKeyRef struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	StartupProbe   *probe `yaml:"startupProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Lifecycle      struct {
		PreStop struct {
			Exec struct {
				Command []string `yaml:"command"`
			} `yaml:"exec"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

func readK8s(t *testing.T) map[string]k8s {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, "kubernetes.yaml")))
	objs := map[string]k8s{}
	for {
		var o k8s
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("kubernetes.yaml: %v", err)
		}
		key := o.Kind + "/" + o.Metadata.Name
		if _, dup := objs[key]; dup {
			t.Fatalf("kubernetes.yaml: %s twice", key)
		}
		objs[key] = o
	}
}

// The probes the manifests use are answered by the real application (its
// database up): 200 on every path.
func probePathsServed(t *testing.T, paths map[string]bool) {
	t.Helper()
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_ANALYSIS": "decode"}}) // no models needed
	for p := range paths {
		resp, err := http.Get(env.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("probe %s: HTTP %d", p, resp.StatusCode)
		}
	}
}

func TestKubernetes(t *testing.T) {
	objs := readK8s(t)
	sts, ok := objs["StatefulSet/livecheck"]
	if !ok || len(sts.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("a StatefulSet livecheck with one container is required: %v", objs)
	}
	c := sts.Spec.Template.Spec.Containers[0]
	secret := objs["Secret/livecheck"]
	// Resolve the container's environment as Kubernetes would for pod livecheck-0.
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		cm, ok := objs["ConfigMap/"+ef.ConfigMapRef.Name]
		if !ok {
			t.Fatalf("envFrom names a missing ConfigMap %s", ef.ConfigMapRef.Name)
		}
		for k, v := range cm.Data {
			env[k] = v
		}
	}
	fields := map[string]string{"metadata.name": "livecheck-0", "status.hostIP": "203.0.113.10"}
	for _, e := range c.Env {
		v := e.Value
		if ref := e.ValueFrom.SecretKeyRef; ref.Name != "" {
			s, ok := objs["Secret/"+ref.Name].StringData[ref.Key]
			if !ok {
				t.Errorf("%s: secret %s has no key %s", e.Name, ref.Name, ref.Key)
			}
			v = s
		}
		if fp := e.ValueFrom.FieldRef.FieldPath; fp != "" {
			if v = fields[fp]; v == "" {
				t.Errorf("%s: unexpected fieldRef %s", e.Name, fp)
			}
		}
		v = regexp.MustCompile(`\$\(([A-Z0-9_]+)\)`).ReplaceAllStringFunc(v, func(m string) string { return env[m[2:len(m)-1]] })
		env[e.Name] = v
	}
	cfg := load(t, "kubernetes.yaml livecheck", env)
	if cfg.NodeID != "livecheck-0" || cfg.NodeURL != "https://livecheck-0.nodes.livecheck.example.com" {
		t.Errorf("node id %q, node URL %q: want the pod's name in both", cfg.NodeID, cfg.NodeURL)
	}
	// Joins are routed to the node's own URL (its signaling socket, with a
	// ticket): a page served over https may only open wss:// sockets.
	if base, node := strings.SplitN(cfg.BaseURL, ":", 2)[0], strings.SplitN(cfg.NodeURL, ":", 2)[0]; base != node || cfg.NodeURL == cfg.BaseURL {
		t.Errorf("node URL %q: want a per-node URL with the scheme of the base URL %q", cfg.NodeURL, cfg.BaseURL)
	}
	if cfg.UDPPortMin == 0 || cfg.UDPPortMax < cfg.UDPPortMin || len(cfg.ICEServers) == 0 || cfg.TURNPassword == "" {
		t.Errorf("media settings: UDP %d-%d, ICE %v", cfg.UDPPortMin, cfg.UDPPortMax, cfg.ICEServers)
	}
	if !sts.Spec.Template.Spec.HostNetwork {
		t.Error("the UDP media range is reached on the node's address: hostNetwork is required")
	}
	// A graceful stop (the drain: interviews handed over or stored) must end
	// before Kubernetes kills the pod: the grace period covers the preStop
	// pause and the server's shutdown deadline, with a margin of 5 s.
	var pause time.Duration
	if cmd := c.Lifecycle.PreStop.Exec.Command; len(cmd) > 0 {
		secs, err := strconv.Atoi(cmd[len(cmd)-1])
		if cmd[0] != "sleep" || len(cmd) != 2 || err != nil {
			t.Fatalf("preStop %v: want [sleep N]", cmd)
		}
		pause = time.Duration(secs) * time.Second
	}
	if grace := time.Duration(sts.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second; grace < pause+config.ShutdownTimeout+5*time.Second {
		t.Errorf("terminationGracePeriodSeconds %s: less than the preStop pause %s + the shutdown deadline %s + 5 s", grace, pause,
			config.ShutdownTimeout)
	}
	httpPort := 0
	for _, p := range c.Ports {
		if p.Name == "http" {
			httpPort = p.ContainerPort
		}
	}
	if httpPort == 0 || httpPort != listenPort(t, cfg) {
		t.Errorf("container port http %d, LIVECHECK_LISTEN %s", httpPort, cfg.ListenAddr)
	}
	paths := map[string]bool{}
	for name, pr := range map[string]*probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Port != "http" {
			t.Errorf("%s probe: want an HTTP GET on port http", name)
			continue
		}
		paths[pr.HTTPGet.Path] = true
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("liveness %s, readiness %s: want /healthz and /readyz", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
	}
	// Services select the node pods and target the port they name.
	labels := sts.Spec.Template.Metadata.Labels
	for _, name := range []string{"livecheck", sts.Spec.ServiceName} {
		svc, ok := objs["Service/"+name]
		if !ok {
			t.Errorf("Service %s is missing", name)
			continue
		}
		var sel map[string]string
		if err := svc.Spec.Selector.Decode(&sel); err != nil || len(sel) == 0 {
			t.Errorf("Service %s: selector %v", name, err)
		}
		for k, v := range sel {
			if labels[k] != v {
				t.Errorf("Service %s selects %s=%s, the pods have %q", name, k, v, labels[k])
			}
		}
		for _, p := range svc.Spec.Ports {
			if p.TargetPort != "http" {
				t.Errorf("Service %s targets port %q, want http", name, p.TargetPort)
			}
		}
	}
	// Every node's own URL (where joins are routed) and the base URL reach
	// the right pods through the Ingress, over TLS.
	ing, ok := objs["Ingress/livecheck"]
	if !ok {
		t.Fatal("an Ingress livecheck is required (base URL and one host per node)")
	}
	backend := func(host string) (string, bool) {
		for _, r := range ing.Spec.Rules {
			if r.Host == host && len(r.HTTP.Paths) == 1 && r.HTTP.Paths[0].Path == "/" {
				b := r.HTTP.Paths[0].Backend.Service
				return b.Name, b.Port.Name == "http"
			}
		}
		return "", false
	}
	tlsCovers := func(host string) bool {
		for _, tl := range ing.Spec.TLS {
			for _, h := range tl.Hosts {
				if h == host || (strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:]) && !strings.Contains(strings.TrimSuffix(host, h[1:]), ".")) {
					return true
				}
			}
		}
		return false
	}
	baseURL, _ := url.Parse(cfg.BaseURL)
	if svc, ok := backend(baseURL.Host); svc != "livecheck" || !ok || !tlsCovers(baseURL.Host) {
		t.Errorf("base URL host %s: Ingress backend %q (port http %v), TLS %v", baseURL.Host, svc, ok, tlsCovers(baseURL.Host))
	}
	nodeURL, _ := url.Parse(cfg.NodeURL)
	if sts.Spec.Replicas < 1 {
		t.Errorf("replicas %d", sts.Spec.Replicas)
	}
	for i := 0; i < sts.Spec.Replicas; i++ {
		pod := fmt.Sprintf("livecheck-%d", i)
		host := strings.Replace(nodeURL.Host, "livecheck-0", pod, 1)
		name, ok := backend(host)
		svc, found := objs["Service/"+name]
		if !ok || !found || !tlsCovers(host) {
			t.Errorf("node %s (%s): Ingress backend %q (port http %v, Service found %v), TLS %v", pod, host, name, ok, found, tlsCovers(host))
			continue
		}
		var sel map[string]string
		_ = svc.Spec.Selector.Decode(&sel)
		if len(sel) != 1 || sel["statefulset.kubernetes.io/pod-name"] != pod || len(svc.Spec.Ports) != 1 ||
			svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].TargetPort != "http" {
			t.Errorf("Service %s: selector %v, ports %+v: want pod %s's port http", name, sel, svc.Spec.Ports, pod)
		}
	}
	// The trial database matches the URL the nodes use.
	db, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := db.User.Password()
	if _, ok := objs["Service/"+db.Hostname()]; !ok || pw != secret.StringData["postgres-password"] {
		t.Errorf("database URL host %s / password do not match the trial PostgreSQL", db.Hostname())
	}
	probePathsServed(t, paths)
}
