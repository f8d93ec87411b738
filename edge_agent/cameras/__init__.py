"""Camera sources: RTSP, USB and video files through OpenCV, one capture thread each."""
