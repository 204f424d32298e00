package strategy

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // CronJob time zones validate on machines without a zoneinfo database

	"github.com/robfig/cron/v3"
	"google.golang.org/protobuf/proto"
	apismetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Labels the server puts on a job's pod template when it generates the
// job's selector.
const (
	LabelControllerUID       = "batch.kubernetes.io/controller-uid"
	LabelJobName             = "batch.kubernetes.io/job-name"
	LabelLegacyControllerUID = "controller-uid"
	LabelLegacyJobName       = "job-name"
)

// Limits Kubernetes puts on Indexed jobs.
const (
	maxParallelismForIndexedJob = 100000
	maxFailedIndexesLimit       = 100000
)

// Job is the strategy of jobs.
type Job struct{}

// PrepareForCreate clears the status.
func (Job) PrepareForCreate(obj proto.Message) {
	obj.(*batchv1.Job).Status = &batchv1.JobStatus{}
}

// Default applies SetDefaults_Job and, unless spec.manualSelector, generates
// the selector batch.kubernetes.io/controller-uid=<uid> and the matching
// template labels (the registry has set metadata.uid before).
func (Job) Default(obj proto.Message) {
	job := obj.(*batchv1.Job)
	if job.Spec == nil {
		job.Spec = &batchv1.JobSpec{}
	}
	spec := job.Spec
	defaultJobSpec(spec)
	if spec.Template == nil {
		spec.Template = &corev1.PodTemplateSpec{}
	}
	if spec.Template.Metadata == nil {
		spec.Template.Metadata = &metav1.ObjectMeta{}
	}
	if job.Metadata != nil && len(job.Metadata.Labels) == 0 && len(spec.Template.Metadata.Labels) > 0 {
		job.Metadata.Labels = map[string]string{}
		for k, v := range spec.Template.Metadata.Labels {
			job.Metadata.Labels[k] = v
		}
	}
	if !spec.GetManualSelector() {
		generateSelector(job)
	}
}

// defaultJobSpec applies the defaults of a job's spec, also inside a
// CronJob's template.
func defaultJobSpec(spec *batchv1.JobSpec) {
	if spec.Completions == nil && spec.Parallelism == nil {
		spec.Completions = ptr.To(int32(1))
		spec.Parallelism = ptr.To(int32(1))
	}
	if spec.Parallelism == nil {
		spec.Parallelism = ptr.To(int32(1))
	}
	if spec.BackoffLimit == nil {
		if spec.BackoffLimitPerIndex != nil {
			spec.BackoffLimit = ptr.To(int32(math.MaxInt32))
		} else {
			spec.BackoffLimit = ptr.To(int32(6))
		}
	}
	if spec.CompletionMode == nil {
		spec.CompletionMode = ptr.To("NonIndexed")
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr.To(false)
	}
	if spec.PodReplacementPolicy == nil {
		spec.PodReplacementPolicy = ptr.To("TerminatingOrFailed")
	}
	defaultTemplate(spec.Template)
}

// generateSelector is Kubernetes' generateSelector: template labels for the
// job's name and uid (user-set ones are kept, and validation then checks
// them), and a selector on the uid.
func generateSelector(job *batchv1.Job) {
	t := job.Spec.Template.Metadata
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	name, uid := job.GetMetadata().GetName(), job.GetMetadata().GetUid()
	for _, k := range []string{LabelLegacyJobName, LabelJobName} {
		if _, ok := t.Labels[k]; !ok {
			t.Labels[k] = name
		}
	}
	for _, k := range []string{LabelLegacyControllerUID, LabelControllerUID} {
		if _, ok := t.Labels[k]; !ok {
			t.Labels[k] = uid
		}
	}
	if job.Spec.Selector == nil {
		job.Spec.Selector = &metav1.LabelSelector{}
	}
	if job.Spec.Selector.MatchLabels == nil {
		job.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, ok := job.Spec.Selector.MatchLabels[LabelControllerUID]; !ok {
		job.Spec.Selector.MatchLabels[LabelControllerUID] = uid
	}
}

// Validate checks the spec, the selector (generated or manual) and that it
// selects the template's labels.
func (Job) Validate(obj proto.Message) field.ErrorList {
	job := obj.(*batchv1.Job)
	spec := job.GetSpec()
	if spec == nil {
		return field.ErrorList{field.Required(specPath, "")}
	}
	var errs field.ErrorList
	errs = append(errs, validateGeneratedSelector(job)...)
	errs = append(errs, validateJobSpec(spec, specPath)...)
	sp := specPath.Child("selector")
	if spec.Selector == nil {
		return append(errs, field.Required(sp, ""))
	}
	errs = append(errs, validateLabelSelector(spec.Selector, sp)...)
	if selector, err := apismetav1.LabelSelectorAsSelector(apiSelector(spec.Selector)); err == nil {
		if selector.Empty() {
			errs = append(errs, field.Required(sp, ""))
		}
		tl := spec.GetTemplate().GetMetadata().GetLabels()
		if !selector.Matches(labels.Set(tl)) {
			errs = append(errs, field.Invalid(specPath.Child("template", "metadata", "labels"), tl, msgSelectorLabels))
		}
	}
	return errs
}

// validateGeneratedSelector checks, for a job without manualSelector, that
// the selector and the template's uid labels are the generated ones.
func validateGeneratedSelector(job *batchv1.Job) field.ErrorList {
	spec := job.GetSpec()
	uid := job.GetMetadata().GetUid()
	if spec.GetManualSelector() || spec.Selector == nil || uid == "" {
		return nil
	}
	var errs field.ErrorList
	if spec.Selector.MatchLabels[LabelControllerUID] != uid {
		errs = append(errs, field.Invalid(specPath.Child("selector"), selectorString(spec.Selector), "`selector` not auto-generated"))
	}
	tl := spec.GetTemplate().GetMetadata().GetLabels()
	lp := specPath.Child("template", "metadata", "labels")
	for _, k := range []string{LabelControllerUID, LabelLegacyControllerUID} {
		if v, ok := tl[k]; ok && v != uid {
			errs = append(errs, field.Invalid(lp.Key(k), v, fmt.Sprintf("must be '%s'", uid)))
		}
	}
	name := job.GetMetadata().GetName()
	for _, k := range []string{LabelJobName, LabelLegacyJobName} {
		if v, ok := tl[k]; ok && name != "" && v != name {
			errs = append(errs, field.Invalid(lp.Key(k), v, fmt.Sprintf("must be '%s'", name)))
		}
	}
	return errs
}

// validateJobSpec checks what a Job and a CronJob's job template share.
func validateJobSpec(spec *batchv1.JobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, nonNegativePtr(spec.Parallelism, p.Child("parallelism"))...)
	errs = append(errs, nonNegativePtr(spec.Completions, p.Child("completions"))...)
	errs = append(errs, nonNegativePtr(spec.ActiveDeadlineSeconds, p.Child("activeDeadlineSeconds"))...)
	errs = append(errs, nonNegativePtr(spec.BackoffLimit, p.Child("backoffLimit"))...)
	errs = append(errs, nonNegativePtr(spec.TtlSecondsAfterFinished, p.Child("ttlSecondsAfterFinished"))...)
	indexed := spec.GetCompletionMode() == "Indexed"
	if spec.BackoffLimitPerIndex != nil {
		errs = append(errs, nonNegativePtr(spec.BackoffLimitPerIndex, p.Child("backoffLimitPerIndex"))...)
		if !indexed {
			errs = append(errs, field.Forbidden(p.Child("backoffLimitPerIndex"), "requires indexed completion mode"))
		}
	}
	if v := spec.MaxFailedIndexes; v != nil {
		mp := p.Child("maxFailedIndexes")
		errs = append(errs, nonNegative(int64(*v), mp)...)
		if spec.BackoffLimitPerIndex == nil {
			errs = append(errs, field.Required(p.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
		}
		if spec.Completions != nil && *v > *spec.Completions {
			errs = append(errs, field.Invalid(mp, *v, "must be less than or equal to completions"))
		}
		if *v > maxFailedIndexesLimit {
			errs = append(errs, field.Invalid(mp, *v, fmt.Sprintf("must be less than or equal to %d", maxFailedIndexesLimit)))
		}
	}
	if m := spec.CompletionMode; m != nil {
		errs = append(errs, oneOf(*m, p.Child("completionMode"), "NonIndexed", "Indexed")...)
		if indexed {
			if spec.Completions == nil {
				errs = append(errs, field.Required(p.Child("completions"), "when completion mode is Indexed"))
			}
			if spec.GetParallelism() > maxParallelismForIndexedJob {
				errs = append(errs, field.Invalid(p.Child("parallelism"), spec.GetParallelism(),
					fmt.Sprintf("must be less than or equal to %d when completion mode is Indexed", maxParallelismForIndexedJob)))
			}
		}
	}
	if r := spec.PodReplacementPolicy; r != nil {
		errs = append(errs, oneOf(*r, p.Child("podReplacementPolicy"), "TerminatingOrFailed", "Failed")...)
	}
	tp := p.Child("template")
	errs = append(errs, validatePodTemplate(spec.Template, tp)...)
	if spec.Template != nil && spec.Template.Spec != nil {
		rp := tp.Child("spec", "restartPolicy")
		switch r := spec.Template.Spec.RestartPolicy; r {
		case "OnFailure", "Never":
		case "Always":
			errs = append(errs, field.Required(rp, `valid values: "OnFailure", "Never"`))
		default:
			errs = append(errs, field.NotSupported(rp, r, []string{"OnFailure", "Never"}))
		}
	}
	return errs
}

// ValidateUpdate checks the new job; selector, template, completions (but
// for Indexed jobs scaled with parallelism), completionMode and
// backoffLimitPerIndex are immutable.
func (j Job) ValidateUpdate(obj, old proto.Message) field.ErrorList {
	spec, oldSpec := obj.(*batchv1.Job).GetSpec(), old.(*batchv1.Job).GetSpec()
	errs := j.Validate(obj)
	if spec == nil || oldSpec == nil {
		return errs
	}
	cp := specPath.Child("completions")
	if spec.GetCompletionMode() == "Indexed" && spec.Completions != nil && oldSpec.Completions != nil && *spec.Completions != *oldSpec.Completions {
		if spec.Parallelism == nil || *spec.Completions != *spec.Parallelism {
			errs = append(errs, field.Invalid(cp, *spec.Completions, "can only be modified in tandem with spec.parallelism"))
		}
	} else {
		errs = append(errs, immutable(!ptrEqual(spec.Completions, oldSpec.Completions), ptrString(spec.Completions), cp)...)
	}
	errs = append(errs, immutable(!proto.Equal(spec.Selector, oldSpec.Selector), selectorString(spec.Selector), specPath.Child("selector"))...)
	errs = append(errs, immutable(!proto.Equal(spec.Template, oldSpec.Template), field.OmitValueType{}, specPath.Child("template"))...)
	errs = append(errs, immutable(!ptrEqual(spec.CompletionMode, oldSpec.CompletionMode), ptrString(spec.CompletionMode), specPath.Child("completionMode"))...)
	errs = append(errs, immutable(!ptrEqual(spec.BackoffLimitPerIndex, oldSpec.BackoffLimitPerIndex), ptrString(spec.BackoffLimitPerIndex), specPath.Child("backoffLimitPerIndex"))...)
	return errs
}

// ValidateStatusUpdate checks that counts are non-negative and conditions
// well-formed.
func (Job) ValidateStatusUpdate(obj, _ proto.Message) field.ErrorList {
	st := obj.(*batchv1.Job).GetStatus()
	var errs field.ErrorList
	errs = append(errs, nonNegative(int64(st.GetActive()), statusPath.Child("active"))...)
	errs = append(errs, nonNegative(int64(st.GetSucceeded()), statusPath.Child("succeeded"))...)
	errs = append(errs, nonNegative(int64(st.GetFailed()), statusPath.Child("failed"))...)
	errs = append(errs, nonNegative(int64(st.GetReady()), statusPath.Child("ready"))...)
	errs = append(errs, nonNegative(int64(st.GetTerminating()), statusPath.Child("terminating"))...)
	for i, c := range st.GetConditions() {
		cp := statusPath.Child("conditions").Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(cp.Child("type"), ""))
		}
		errs = append(errs, conditionStatus(c.Status, cp.Child("status"))...)
	}
	up := statusPath.Child("uncountedTerminatedPods")
	for i, uid := range st.GetUncountedTerminatedPods().GetSucceeded() {
		if uid == "" {
			errs = append(errs, field.Invalid(up.Child("succeeded").Index(i), uid, "must not be empty"))
		}
	}
	for i, uid := range st.GetUncountedTerminatedPods().GetFailed() {
		if uid == "" {
			errs = append(errs, field.Invalid(up.Child("failed").Index(i), uid, "must not be empty"))
		}
	}
	return errs
}

// CronJob is the strategy of cron jobs.
type CronJob struct{}

// PrepareForCreate clears the status.
func (CronJob) PrepareForCreate(obj proto.Message) {
	obj.(*batchv1.CronJob).Status = &batchv1.CronJobStatus{}
}

// Default applies SetDefaults_CronJob: concurrencyPolicy Allow, suspend
// false, history limits 3 and 1, and pod defaults in the job template.
func (CronJob) Default(obj proto.Message) {
	cj := obj.(*batchv1.CronJob)
	if cj.Spec == nil {
		cj.Spec = &batchv1.CronJobSpec{}
	}
	spec := cj.Spec
	if spec.ConcurrencyPolicy == "" {
		spec.ConcurrencyPolicy = "Allow"
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr.To(false)
	}
	if spec.SuccessfulJobsHistoryLimit == nil {
		spec.SuccessfulJobsHistoryLimit = ptr.To(int32(3))
	}
	if spec.FailedJobsHistoryLimit == nil {
		spec.FailedJobsHistoryLimit = ptr.To(int32(1))
	}
	if spec.JobTemplate != nil && spec.JobTemplate.Spec != nil {
		defaultTemplate(spec.JobTemplate.Spec.Template)
	}
}

// Validate checks a new cron job, whose name leaves room for the job
// names it makes (at most 52 characters).
func (CronJob) Validate(obj proto.Message) field.ErrorList {
	cj := obj.(*batchv1.CronJob)
	var errs field.ErrorList
	if name := cj.GetMetadata().GetName(); len(name) > 52 {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), name, "must be no more than 52 characters"))
	}
	return append(errs, validateCronJobSpec(cj.GetSpec(), nil)...)
}

func validateCronJobSpec(spec, old *batchv1.CronJobSpec) field.ErrorList {
	if spec == nil {
		return field.ErrorList{field.Required(specPath, "")}
	}
	var errs field.ErrorList
	sp := specPath.Child("schedule")
	if spec.Schedule == "" {
		errs = append(errs, field.Required(sp, ""))
	} else {
		allowTZ := old != nil && strings.Contains(old.Schedule, "TZ")
		errs = append(errs, validateSchedule(spec.Schedule, allowTZ, spec.TimeZone, sp)...)
	}
	errs = append(errs, nonNegativePtr(spec.StartingDeadlineSeconds, specPath.Child("startingDeadlineSeconds"))...)
	if old == nil || !ptrEqual(spec.TimeZone, old.TimeZone) {
		errs = append(errs, validateTimeZone(spec.TimeZone, specPath.Child("timeZone"))...)
	}
	errs = append(errs, oneOf(spec.ConcurrencyPolicy, specPath.Child("concurrencyPolicy"), "Allow", "Forbid", "Replace")...)
	errs = append(errs, nonNegativePtr(spec.SuccessfulJobsHistoryLimit, specPath.Child("successfulJobsHistoryLimit"))...)
	errs = append(errs, nonNegativePtr(spec.FailedJobsHistoryLimit, specPath.Child("failedJobsHistoryLimit"))...)
	jp := specPath.Child("jobTemplate")
	jt := spec.JobTemplate
	if jt == nil || jt.Spec == nil {
		return append(errs, field.Required(jp.Child("spec"), ""))
	}
	errs = append(errs, validateTemplateMeta(jt.Metadata, jp.Child("metadata"))...)
	errs = append(errs, validateJobSpec(jt.Spec, jp.Child("spec"))...)
	if jt.Spec.Selector != nil {
		errs = append(errs, field.Invalid(jp.Child("spec", "selector"), selectorString(jt.Spec.Selector), "`selector` will be auto-generated"))
	}
	if jt.Spec.GetManualSelector() {
		errs = append(errs, field.NotSupported(jp.Child("spec", "manualSelector"), true, []string{"nil", "false"}))
	}
	return errs
}

func validateSchedule(schedule string, allowTZ bool, timeZone *string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if _, err := cron.ParseStandard(schedule); err != nil {
		errs = append(errs, field.Invalid(p, schedule, err.Error()))
	}
	switch {
	case allowTZ && strings.Contains(schedule, "TZ") && timeZone != nil:
		errs = append(errs, field.Invalid(p, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
	case !allowTZ && strings.Contains(schedule, "TZ"):
		errs = append(errs, field.Invalid(p, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	}
	return errs
}

// validTimeZoneCharacters is Kubernetes' rule for each part of an IANA name.
var validTimeZoneCharacters = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

func validateTimeZone(tz *string, p *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" {
		return field.ErrorList{field.Invalid(p, *tz, "timeZone must be nil or non-empty string")}
	}
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !validTimeZoneCharacters.MatchString(part) {
			return field.ErrorList{field.Invalid(p, *tz, fmt.Sprintf("unknown time zone %s", *tz))}
		}
	}
	if strings.EqualFold(*tz, "Local") {
		return field.ErrorList{field.Invalid(p, *tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")}
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		return field.ErrorList{field.Invalid(p, *tz, err.Error())}
	}
	return nil
}

// ValidateUpdate checks the new cron job; every field may change.
func (CronJob) ValidateUpdate(obj, old proto.Message) field.ErrorList {
	return validateCronJobSpec(obj.(*batchv1.CronJob).GetSpec(), old.(*batchv1.CronJob).GetSpec())
}

// ValidateStatusUpdate checks the active references.
func (CronJob) ValidateStatusUpdate(obj, _ proto.Message) field.ErrorList {
	var errs field.ErrorList
	for i, ref := range obj.(*batchv1.CronJob).GetStatus().GetActive() {
		if ref.Name == "" {
			errs = append(errs, field.Required(statusPath.Child("active").Index(i).Child("name"), ""))
		}
	}
	return errs
}
