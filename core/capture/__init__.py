"""Motion capture from video: follow one person through the frames (:mod:`.track`), fit the body over
time (:mod:`.fit_motion`, keypoints exact on the skin: :mod:`.keypoint_skin`) and return the motion
(:mod:`.capture`)."""
