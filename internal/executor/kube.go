package executor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/redact"
	"github.com/headroomhq/headroom/proto"
)

// DriverKubernetes names the driver that scales Deployments and StatefulSets
// through the Kubernetes scale subresource.
const DriverKubernetes = "kubernetes"

// Workload kinds a KubeTarget names.
const (
	KindDeployment  = "Deployment"
	KindStatefulSet = "StatefulSet"
)

// KubeTarget is the workload that runs one tier.
type KubeTarget struct {
	Namespace string
	// Kind is KindDeployment or KindStatefulSet.
	Kind string
	Name string
}

// String names the workload as "deployment shop/web".
func (t KubeTarget) String() string {
	return strings.ToLower(t.Kind) + " " + t.Namespace + "/" + t.Name
}

// KubeConfig configures the kubernetes driver.
type KubeConfig struct {
	// Kubeconfig is a kubeconfig file; empty means the in-cluster service
	// account when running in a pod, else $KUBECONFIG or ~/.kube/config.
	Kubeconfig string
	// Context selects a kubeconfig context; empty keeps the current one.
	Context string
	// Targets maps "app.tier" to the workload that runs it. A tier not
	// listed is never acted on (the driver refuses it with a reason).
	Targets map[string]KubeTarget
	// Timeout bounds one change, all retries included.
	Timeout time.Duration
	// SyncTimeout bounds the first wait for the workload watches to fill.
	SyncTimeout time.Duration

	targetsFlag string
}

// DefaultKubeConfig returns 30 s per change and 30 s for the first sync.
func DefaultKubeConfig() KubeConfig {
	return KubeConfig{Timeout: 30 * time.Second, SyncTimeout: 30 * time.Second}
}

func (c *KubeConfig) registerFlags(f *cli.Flags) {
	d := DefaultKubeConfig()
	f.String(&c.Kubeconfig, "executor.kubernetes.kubeconfig", "", "kubernetes driver: kubeconfig file (default: in-cluster service account, else $KUBECONFIG or ~/.kube/config)")
	f.String(&c.Context, "executor.kubernetes.context", "", "kubernetes driver: kubeconfig context (default: the current one)")
	f.String(&c.targetsFlag, "executor.kubernetes.targets", "", "kubernetes driver: workload per tier, app.tier=namespace/deployment/name or app.tier=namespace/statefulset/name, comma-separated")
	f.Duration(&c.Timeout, "executor.kubernetes.timeout", d.Timeout, "kubernetes driver: time allowed for one change, retries included")
	f.Duration(&c.SyncTimeout, "executor.kubernetes.sync-timeout", d.SyncTimeout, "kubernetes driver: time allowed for the first listing of the workloads")
}

// Resolve returns c with the text of -executor.kubernetes.targets, when
// given, parsed and added to Targets (a flag entry wins over one set in code).
func (c KubeConfig) Resolve() (KubeConfig, error) {
	if c.targetsFlag == "" {
		return c, nil
	}
	m, err := ParseKubeTargets(c.targetsFlag)
	if err != nil {
		return c, fmt.Errorf("executor.kubernetes.targets: %w", err)
	}
	out := make(map[string]KubeTarget, len(c.Targets)+len(m))
	for k, v := range c.Targets {
		out[k] = v
	}
	for k, v := range m {
		out[k] = v
	}
	c.Targets, c.targetsFlag = out, ""
	return c, nil
}

// Validate checks the settings.
func (c KubeConfig) Validate() error {
	c, err := c.Resolve()
	if err != nil {
		return err
	}
	var errs []error
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("executor.kubernetes.targets is empty: the kubernetes driver needs the workload of each tier it may scale"))
	}
	for k, t := range c.Targets {
		if err := checkKubeTarget(k, t); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Timeout <= 0 || c.SyncTimeout <= 0 {
		errs = append(errs, fmt.Errorf("executor.kubernetes.timeout %v and sync-timeout %v: want > 0", c.Timeout, c.SyncTimeout))
	}
	return errors.Join(errs...)
}

func checkKubeTarget(key string, t KubeTarget) error {
	app, tier, ok := strings.Cut(key, ".")
	if !ok {
		return fmt.Errorf("executor.kubernetes.targets: %q: want app.tier", key)
	}
	if err := proto.CheckToken("app", app); err != nil {
		return fmt.Errorf("executor.kubernetes.targets: %w", err)
	}
	if err := proto.CheckToken("tier", tier); err != nil {
		return fmt.Errorf("executor.kubernetes.targets: %w", err)
	}
	if t.Kind != KindDeployment && t.Kind != KindStatefulSet {
		return fmt.Errorf("executor.kubernetes.targets: %s: kind %q: want Deployment or StatefulSet", key, t.Kind)
	}
	if !config.DNSLabel(t.Namespace) || !config.DNSSubdomain(t.Name) {
		return fmt.Errorf("executor.kubernetes.targets: %s: %q/%q is not a valid namespace/name", key, t.Namespace, t.Name)
	}
	return nil
}

// ParseKubeTargets parses "app.tier=namespace/kind/name,…", kind being
// deployment (deploy) or statefulset (sts).
func ParseKubeTargets(s string) (map[string]KubeTarget, error) {
	out := map[string]KubeTarget{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		key, val, ok := strings.Cut(kv, "=")
		parts := strings.Split(val, "/")
		if !ok || len(parts) != 3 {
			return nil, fmt.Errorf("%q: want app.tier=namespace/kind/name", kv)
		}
		t := KubeTarget{Namespace: parts[0], Name: parts[2]}
		switch strings.ToLower(parts[1]) {
		case "deployment", "deployments", "deploy":
			t.Kind = KindDeployment
		case "statefulset", "statefulsets", "sts":
			t.Kind = KindStatefulSet
		default:
			return nil, fmt.Errorf("%q: kind %q: want deployment or statefulset", kv, parts[1])
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%q: %s listed twice", kv, key)
		}
		if err := checkKubeTarget(key, t); err != nil {
			return nil, err
		}
		out[key] = t
	}
	return out, nil
}

// KubeRESTConfig loads the client configuration cfg names.
func KubeRESTConfig(cfg KubeConfig) (*rest.Config, error) {
	var rc *rest.Config
	var err error
	if cfg.Kubeconfig == "" && cfg.Context == "" {
		rc, err = rest.InClusterConfig()
		if errors.Is(err, rest.ErrNotInCluster) {
			rc, err = nil, nil
		}
	}
	if rc == nil && err == nil {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if cfg.Kubeconfig != "" {
			rules.ExplicitPath = cfg.Kubeconfig
		}
		rc, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: cfg.Context}).ClientConfig()
	}
	if err != nil {
		// Masked: client-go's validation quotes a refused proxy-url whole,
		// credentials and all, into the log and /readyz.
		return nil, fmt.Errorf("kubernetes client configuration: %w", redact.Error(err))
	}
	rc = rest.CopyConfig(rc)
	rc.UserAgent = "headroom-executor"
	return rc, nil
}

// KubeDriver scales each configured tier's Deployment or StatefulSet
// through its scale subresource and reports the workload's replicas as the
// cluster does: ready = status.readyReplicas, booting = desired − ready.
//
// It is deny-by-default: a tier with no configured workload is refused, and
// so is a workload that a HorizontalPodAutoscaler already targets (two
// autoscalers on one workload fight). A change reads the workload, does
// nothing when it already has the count asked for (so repeating a request is
// harmless), refuses when the workload's count is not the one the
// decision was judged from (Request.JudgedFrom: someone changed it since;
// ErrMovedSinceJudged), and otherwise patches spec.replicas with the
// resourceVersion it read as a precondition, retrying conflicts (whose
// fresh read then finds the other change and refuses) and transient
// errors within KubeConfig.Timeout.
//
// Replicas that are not ready a progress deadline after the workload's
// spec last changed (the Deployment's progressDeadlineSeconds, else 10
// minutes), or in a rollout Kubernetes marks past its deadline, are
// reported once as failed.
type KubeDriver struct {
	client      kubernetes.Interface
	targets     map[string]KubeTarget
	timeout     time.Duration
	syncTimeout time.Duration

	startOnce sync.Once
	started   atomic.Bool // start's first call has returned: synced and syncErr are set
	stop      chan struct{}
	closeOnce sync.Once
	synced    []cache.InformerSynced
	syncErr   error
	deploys   map[string]appslisters.DeploymentLister  // by namespace
	sets      map[string]appslisters.StatefulSetLister // by namespace

	// now is the wall clock (tests replace it).
	now func() time.Time

	mu          sync.Mutex
	failedAtGen map[string]int64 // tier → generation whose stuck rollout was reported
	genSeen     map[string]genMark
	// read holds, by tier, the newest desired count the driver knows
	// beyond its watch: the one it patched, or the one a fresh read found
	// when it refused a request judged from another (ErrMovedSinceJudged).
	read map[string]readMark
}

// readMark is a desired count the driver set or read itself, and the
// workload's generation with it (at least): until the watch shows that
// generation of that workload (uid), Observe reports this count. A
// workload deleted and created again starts at generation 1 under another
// uid: the old one's mark says nothing of it.
type readMark struct {
	uid     types.UID
	gen     int64
	desired int
}

// genMark is when the driver first saw a workload's generation.
type genMark struct {
	gen int64
	at  time.Time
}

// NewKubeDriver checks cfg, loads its client configuration and builds the
// driver. The workload watches start at the first Scale or Observe.
func NewKubeDriver(cfg KubeConfig) (*KubeDriver, error) {
	cfg, err := cfg.Resolve()
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rc, err := KubeRESTConfig(cfg)
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		// Masked: client-go quotes the server URL, and with it any
		// password (user:password@), into the log and /readyz.
		return nil, fmt.Errorf("kubernetes client: %w", redact.Error(err))
	}
	return NewKubeDriverForClient(client, cfg), nil
}

// NewKubeDriverForClient builds the driver on an existing client (tests,
// embedders); cfg's targets must be valid.
func NewKubeDriverForClient(client kubernetes.Interface, cfg KubeConfig) *KubeDriver {
	d := DefaultKubeConfig()
	if cfg.Timeout <= 0 {
		cfg.Timeout = d.Timeout
	}
	if cfg.SyncTimeout <= 0 {
		cfg.SyncTimeout = d.SyncTimeout
	}
	return &KubeDriver{client: client, targets: cfg.Targets, timeout: cfg.Timeout, syncTimeout: cfg.SyncTimeout,
		stop: make(chan struct{}), deploys: map[string]appslisters.DeploymentLister{}, sets: map[string]appslisters.StatefulSetLister{},
		failedAtGen: map[string]int64{}, genSeen: map[string]genMark{}, read: map[string]readMark{}, now: time.Now}
}

// Close stops the workload watches.
func (d *KubeDriver) Close() {
	d.closeOnce.Do(func() { close(d.stop) })
}

// start begins watching the workloads of the configured namespaces (one
// informer per kind used in each namespace) and waits, once, for the first
// listing.
func (d *KubeDriver) start() error {
	d.startOnce.Do(func() {
		kinds := map[string]map[string]bool{}
		for _, t := range d.targets {
			if kinds[t.Namespace] == nil {
				kinds[t.Namespace] = map[string]bool{}
			}
			kinds[t.Namespace][t.Kind] = true
		}
		var factories []informers.SharedInformerFactory
		for ns, ks := range kinds {
			f := informers.NewSharedInformerFactoryWithOptions(d.client, 0, informers.WithNamespace(ns))
			if ks[KindDeployment] {
				inf := f.Apps().V1().Deployments()
				d.deploys[ns] = inf.Lister()
				d.synced = append(d.synced, inf.Informer().HasSynced)
				_ = inf.Informer().SetWatchErrorHandlerWithContext(watchError)
			}
			if ks[KindStatefulSet] {
				inf := f.Apps().V1().StatefulSets()
				d.sets[ns] = inf.Lister()
				d.synced = append(d.synced, inf.Informer().HasSynced)
				_ = inf.Informer().SetWatchErrorHandlerWithContext(watchError)
			}
			factories = append(factories, f)
		}
		for _, f := range factories {
			f.Start(d.stop)
		}
		ctx, cancel := context.WithTimeout(context.Background(), d.syncTimeout)
		defer cancel()
		go func() {
			// Close ends the wait too: the watches it stops will
			// not list.
			select {
			case <-d.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		if !cache.WaitForCacheSync(ctx.Done(), d.synced...) {
			select {
			case <-d.stop:
				d.syncErr = errors.New("kubernetes: driver closed before the workloads were listed")
			default:
				d.syncErr = fmt.Errorf("kubernetes: workloads not listed within %v (check the API server address and the driver's RBAC: get/list/watch on deployments and statefulsets)", d.syncTimeout)
			}
		}
		d.started.Store(true)
	})
	if d.syncErr != nil && !d.listed() {
		// Later calls find the watches filled once they catch up.
		return d.syncErr
	}
	return nil
}

// watchError is client-go's handling of a failed list or watch (logged
// to stderr) with the error masked: net/http's quotes the request URL,
// hiding a password but not a user (a token given as one), and a watch
// fails just when the API server is unreachable.
func watchError(ctx context.Context, r *cache.Reflector, err error) {
	cache.DefaultWatchErrorHandler(ctx, r, redact.Error(err))
}

// listed reports whether every workload watch has listed its workloads;
// start has returned.
func (d *KubeDriver) listed() bool {
	for _, s := range d.synced {
		if !s() {
			return false
		}
	}
	return true
}

// workload is what the driver reads of a Deployment or StatefulSet.
type workload struct {
	uid             types.UID
	desired, ready  int
	resourceVersion string
	generation      int64
	stuck           bool // the rollout passed its progress deadline
	// deadline is how long replicas may stay unready after a change to
	// the spec (a scale included) before they count as failed.
	deadline time.Duration
}

// defaultProgressDeadline is Kubernetes' default progressDeadlineSeconds,
// also used for StatefulSets, which have none.
const defaultProgressDeadline = 600 * time.Second

func deploymentState(o *appsv1.Deployment) workload {
	w := workload{uid: o.UID, desired: 1, ready: int(o.Status.ReadyReplicas), resourceVersion: o.ResourceVersion, generation: o.Generation,
		deadline: defaultProgressDeadline}
	if o.Spec.Replicas != nil {
		w.desired = int(*o.Spec.Replicas)
	}
	if s := o.Spec.ProgressDeadlineSeconds; s != nil && *s > 0 {
		w.deadline = time.Duration(*s) * time.Second
	}
	for _, c := range o.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == "False" && c.Reason == "ProgressDeadlineExceeded" {
			w.stuck = true
		}
	}
	return w
}

func statefulSetState(o *appsv1.StatefulSet) workload {
	w := workload{uid: o.UID, desired: 1, ready: int(o.Status.ReadyReplicas), resourceVersion: o.ResourceVersion, generation: o.Generation,
		deadline: defaultProgressDeadline}
	if o.Spec.Replicas != nil {
		w.desired = int(*o.Spec.Replicas)
	}
	return w
}

// result turns a workload's counts into the executor's: the ready replicas
// the desired count keeps, and the rest of the desired count as booting, so
// Ready+Booting is spec.replicas.
func (w workload) result() Result {
	return Result{Ready: min(w.ready, w.desired), Booting: max(0, w.desired-w.ready), Cluster: true}
}

// Watch starts the workload watches in the background, as the first
// Observe would, so that Synced can tell from the start whether they
// list the workloads.
func (d *KubeDriver) Watch() { go func() { _ = d.start() }() }

// Synced reports, without waiting, whether every workload watch has listed
// its workloads: nil once they have, else why not. It is the executor's
// readiness check with this driver: until it passes, every tier is judged
// from the count on record and a change to a workload scaled meanwhile is
// refused (ErrMovedSinceJudged), so an executor whose watches never list
// (RBAC without list or watch, say) says so on /readyz, not only in its
// refusals.
func (d *KubeDriver) Synced() error {
	switch {
	case !d.started.Load():
		return errors.New("kubernetes: workload watches starting")
	case d.listed():
		return nil
	case d.syncErr != nil:
		return d.syncErr
	}
	return errors.New("kubernetes: workloads not listed yet")
}

// Observe reports a configured tier's replicas as the watch last saw them:
// ready = status.readyReplicas, booting = spec.replicas − ready (the
// Result's Cluster is set). A watch that has not yet delivered the driver's
// own last patch, or the change a refused request found (an older
// generation), reports that count as desired: a decision judged again
// after ErrMovedSinceJudged is judged from the count found, not from the
// lagging watch's again. It does not depend on t: the cluster's state is
// its state now.
func (d *KubeDriver) Observe(app, tier string, _ time.Time) (Result, bool) {
	key := app + "." + tier
	tg, ok := d.targets[key]
	if !ok || d.start() != nil {
		return Result{}, false
	}
	var w workload
	switch tg.Kind {
	case KindDeployment:
		o, err := d.deploys[tg.Namespace].Deployments(tg.Namespace).Get(tg.Name)
		if err != nil {
			return Result{}, false
		}
		w = deploymentState(o)
	case KindStatefulSet:
		o, err := d.sets[tg.Namespace].StatefulSets(tg.Namespace).Get(tg.Name)
		if err != nil {
			return Result{}, false
		}
		w = statefulSetState(o)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, ok := d.read[key]; ok && p.uid == w.uid && w.generation < p.gen {
		w.desired = p.desired // the watch lags the patch or the read just made
	}
	r := w.result()
	// Kubernetes marks only rollouts (template changes) past their progress
	// deadline; a scale-up whose new pods never become ready stays
	// "progressing" for ever. So replicas still unready a deadline after
	// the driver first saw this generation (a scale bumps it) count as
	// stuck too. After a restart the clock starts again: later, never
	// falsely.
	if m := d.genSeen[key]; m.gen != w.generation {
		d.genSeen[key] = genMark{gen: w.generation, at: d.now()}
	} else if r.Booting > 0 && d.now().Sub(m.at) > w.deadline {
		w.stuck = true
	}
	if w.stuck && r.Booting > 0 && d.failedAtGen[key] != w.generation {
		// Report a stuck rollout once per generation, as failed replicas,
		// so it shows on a FAILED scaling event with the decision's id.
		d.failedAtGen[key] = w.generation
		r.Failed = r.Booting
	}
	return r, true
}

// HPAConflictError is returned when a HorizontalPodAutoscaler already
// targets the workload a request would scale.
type HPAConflictError struct {
	Target KubeTarget
	HPA    string
}

// Error says which HPA holds the workload and how to resolve it.
func (e *HPAConflictError) Error() string {
	return fmt.Sprintf("refusing to scale %s: HorizontalPodAutoscaler %s/%s already scales it, and two autoscalers on one workload fight; delete that HPA or leave this tier out of executor.kubernetes.targets",
		e.Target, e.Target.Namespace, e.HPA)
}

// fencesJudged marks the driver as changing a tier only while its count
// is the one judged from (Request.JudgedFrom): it needs no lease.
func (d *KubeDriver) fencesJudged() {}

// readsCountBack marks the driver as reading each tier's desired count
// from its workload (Observe, Result.Cluster).
func (d *KubeDriver) readsCountBack() {}

// Scale sets the tier's workload to r.Replicas. A request judged from a
// count (r.Judged) is carried out only while the workload's desired count
// is r.JudgedFrom: one found at another count (and not at r.Replicas
// already) is refused with an error wrapping ErrMovedSinceJudged, not
// patched, and not retried.
func (d *KubeDriver) Scale(ctx context.Context, r Request) (Result, error) {
	tg, ok := d.targets[r.App+"."+r.Tier]
	if !ok {
		return Result{}, fmt.Errorf("kubernetes: no workload configured for %s.%s: not acting (add it to executor.kubernetes.targets)", r.App, r.Tier)
	}
	if r.Replicas < 0 || r.Replicas > 1<<20 {
		return Result{}, fmt.Errorf("kubernetes: %s: %d replicas is out of range", tg, r.Replicas)
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		res, err := d.scaleOnce(ctx, r.App+"."+r.Tier, tg, r)
		if err == nil {
			return res, nil
		}
		// Masked: net/http's errors quote the request URL, hiding a
		// password but not a user (a token given as one), and this error
		// is logged and published.
		masked := redact.Error(err)
		if !retriable(err) {
			return Result{}, fmt.Errorf("kubernetes: %s: %w", tg, masked)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return Result{}, fmt.Errorf("kubernetes: %s: attempt %d, no time left to retry: %w", tg, attempt, masked)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Result{}, fmt.Errorf("kubernetes: %s: attempt %d: %w (then %w)", tg, attempt, masked, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// scaleOnce makes one attempt: check for an HPA, read, patch if needed and
// the workload is at the count r was judged from.
func (d *KubeDriver) scaleOnce(ctx context.Context, key string, tg KubeTarget, r Request) (Result, error) {
	want := r.Replicas
	if err := d.checkHPA(ctx, tg); err != nil {
		return Result{}, err
	}
	var w workload
	switch tg.Kind {
	case KindDeployment:
		o, err := d.client.AppsV1().Deployments(tg.Namespace).Get(ctx, tg.Name, metav1.GetOptions{})
		if err != nil {
			return Result{}, fmt.Errorf("get: %w", err)
		}
		w = deploymentState(o)
	case KindStatefulSet:
		o, err := d.client.AppsV1().StatefulSets(tg.Namespace).Get(ctx, tg.Name, metav1.GetOptions{})
		if err != nil {
			return Result{}, fmt.Errorf("get: %w", err)
		}
		w = statefulSetState(o)
	}
	if w.desired == want {
		return w.result(), nil // already there: nothing to change
	}
	if r.Judged && w.desired != r.JudgedFrom {
		// Changed since the decision was judged (another member's
		// change, kubectl scale): patching would undo it with a count
		// decided from the one before. A conflict on the patch below
		// (a change between this read and the patch) ends here too, on
		// the retry's fresh read.
		d.remember(key, readMark{uid: w.uid, gen: w.generation, desired: w.desired})
		return Result{}, fmt.Errorf("%w: spec.replicas is %d, the decision was judged from %d; not patching %d",
			ErrMovedSinceJudged, w.desired, r.JudgedFrom, want)
	}
	// The scale subresource shares its object's resourceVersion: patching
	// with the one read makes the change conditional on nobody having
	// changed the workload since (a conflict is retried with a fresh read).
	patch := fmt.Appendf(nil, `{"metadata":{"resourceVersion":%q},"spec":{"replicas":%d}}`, w.resourceVersion, want)
	opts := metav1.PatchOptions{FieldManager: "headroom"}
	var err error
	switch tg.Kind {
	case KindDeployment:
		_, err = d.client.AppsV1().Deployments(tg.Namespace).Patch(ctx, tg.Name, types.MergePatchType, patch, opts, "scale")
	case KindStatefulSet:
		_, err = d.client.AppsV1().StatefulSets(tg.Namespace).Patch(ctx, tg.Name, types.MergePatchType, patch, opts, "scale")
	}
	if err != nil {
		return Result{}, fmt.Errorf("patch scale %d→%d: %w", w.desired, want, err)
	}
	// A change of spec.replicas bumps the generation: until the watch
	// shows that generation, Observe reports want as desired.
	d.remember(key, readMark{uid: w.uid, gen: w.generation + 1, desired: want})
	w.desired = want
	return w.result(), nil
}

// remember records m as tier key's newest desired count beyond the watch,
// unless the driver knows a later generation's of the same workload
// already (m, read fresh from the API server, replaces another
// workload's: the one deleted).
func (d *KubeDriver) remember(key string, m readMark) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, ok := d.read[key]; !ok || p.uid != m.uid || p.gen <= m.gen {
		d.read[key] = m
	}
}

// checkHPA lists the namespace's HPAs (a fresh list, not a cache: an HPA
// created a moment ago must still block) and refuses when one targets tg.
func (d *KubeDriver) checkHPA(ctx context.Context, tg KubeTarget) error {
	l, err := d.client.AutoscalingV2().HorizontalPodAutoscalers(tg.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list horizontalpodautoscalers: %w", err)
	}
	var names []string
	for _, h := range l.Items {
		if hpaTargets(&h, tg) {
			names = append(names, h.Name)
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		return &HPAConflictError{Target: tg, HPA: strings.Join(names, ", ")}
	}
	return nil
}

func hpaTargets(h *autoscalingv2.HorizontalPodAutoscaler, tg KubeTarget) bool {
	ref := h.Spec.ScaleTargetRef
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return false
	}
	return ref.Name == tg.Name && strings.EqualFold(ref.Kind, tg.Kind) && (gv.Group == "apps" || gv.Group == "extensions")
}

// retriable reports whether another attempt may succeed: conflicts, server
// overload and timeouts, and errors that never reached an answer.
func retriable(err error) bool {
	var hpa *HPAConflictError
	if errors.As(err, &hpa) || errors.Is(err, ErrMovedSinceJudged) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true // transport error
	}
	return apierrors.IsConflict(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) ||
		apierrors.IsUnexpectedServerError(err)
}
