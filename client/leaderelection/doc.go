// Package leaderelection elects one leader among the replicas of a daemon
// through a coordination/v1 Lease stored by the apiserver, as client-go's
// leaderelection package does.
//
// Each candidate reads the Lease every RetryPeriod. A candidate takes it when
// it is free (no holder) or when its holder has not renewed it for
// LeaseDuration as measured by the candidate's own clock (the time it last
// saw the record change, so that clocks need not agree). Writes carry the
// resourceVersion they read, so of two candidates racing for the same Lease
// one wins and the other sees a conflict. The leader renews every RetryPeriod
// and gives up leadership — cancelling the context of OnStartedLeading — when
// it has not managed to renew for RenewDeadline, which is shorter than
// LeaseDuration: a leader stops acting before anyone else may take over.
//
//	le, err := leaderelection.New(leaderelection.Config{
//		Leases:   cs.Leases("kube-system"),
//		Name:     "gantry-scheduler",
//		Identity: hostname + "_" + uid,
//		Callbacks: leaderelection.Callbacks{
//			OnStartedLeading: func(ctx context.Context) { sched.Run(ctx) },
//			OnStoppedLeading: func() { logger.Fatal("lost leadership") },
//		},
//		ReleaseOnCancel: true,
//	})
//	le.Run(ctx)
package leaderelection
